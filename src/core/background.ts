/**
 * The smooth background field added to the Gaussian sum. Dense, noisy volumes carry most of their
 * energy in a slowly varying floor; modelling it separately keeps Gaussians for structure.
 *
 * All models are evaluated at normalised coordinates u ∈ (-1, 1) of voxel centres (see
 * `toNormalized`), so a model fitted at full resolution is sampled consistently at every scale.
 *  - constant:   params = [c]
 *  - polynomial: Σ c_t · x^a · y^b · z^c over monomials of total degree ≤ d, in the order of
 *                `polynomialTerms(d)` (z power outermost, x power innermost, each ascending)
 *  - grid:       trilinear interpolation of nodes spread evenly from u = -1 to u = +1 on each axis
 *                (one node: constant along that axis); params in z, y, x order, x fastest.
 */
import type { Factors, Shape3 } from "./gaussian.js";

export type BackgroundModel =
  | { kind: "constant"; params: Float64Array }
  | { kind: "polynomial"; degree: number; params: Float64Array }
  | { kind: "grid"; dims: [number, number, number]; params: Float64Array };

export const MAX_POLYNOMIAL_DEGREE = 4;
export const MAX_GRID_NODES_PER_AXIS = 256;

/** Exponents [x, y, z] of the polynomial's monomials, in storage order. */
export function polynomialTerms(degree: number): Array<[number, number, number]> {
  const terms: Array<[number, number, number]> = [];
  for (let pz = 0; pz <= degree; pz++)
    for (let py = 0; py <= degree - pz; py++)
      for (let px = 0; px <= degree - pz - py; px++) terms.push([px, py, pz]);
  return terms;
}

type BackgroundShape =
  | { kind: "constant" }
  | { kind: "polynomial"; degree: number }
  | { kind: "grid"; dims: [number, number, number] };

export function backgroundParamCount(model: BackgroundShape): number {
  switch (model.kind) {
    case "constant": return 1;
    case "polynomial": return polynomialTerms(model.degree).length;
    case "grid": return model.dims[0] * model.dims[1] * model.dims[2];
  }
}

export function constantBackground(value: number): BackgroundModel {
  return { kind: "constant", params: Float64Array.of(value) };
}

/** Axis-aligned box on a scale's grid, half-open, in voxels of that scale. */
export interface Box {
  z0: number; z1: number; y0: number; y1: number; x0: number; x1: number;
}

/** Voxels in a box. */
export function boxVoxels(b: Box): number {
  return (b.x1 - b.x0) * (b.y1 - b.y0) * (b.z1 - b.z0);
}

/** Lower grid node and interpolation weight of normalised coordinate u on an axis of g nodes. */
function gridNode(u: number, g: number): [number, number] {
  if (g === 1) return [0, 0];
  const t = Math.min(Math.max(((u + 1) / 2) * (g - 1), 0), g - 1);
  const i = Math.min(Math.floor(t), g - 2);
  return [i, t - i];
}

/** Normalised coordinate of voxel j of a scale with factor f along an axis of n full-res voxels. */
export function scaleCoordToNormalized(j: number, f: number, n: number): number {
  return (((j + 0.5) * f) / n) * 2 - 1;
}

/**
 * The background over a box, one x-row at a time, each row's values into a scratch row of doubles
 * that the caller reads before asking for the next (the decoder adds them to the summed Gaussians
 * in the sweep that converts to the dtype, instead of a pass of its own). What depends on x alone
 * is computed once per box. Along a row the grid model is linear between two x nodes, so each
 * run of columns between nodes is evaluated as A + B·X at the absolute column X (one multiply-add
 * a voxel instead of a lerp from per-column weights, and the same value in whatever box the voxel
 * is decoded).
 */
export class BackgroundRows {
  private readonly values: Float64Array;
  private readonly ux: Float64Array;
  /** Polynomial: coefficients of the row's polynomial in x; grid: the row's values at the x nodes. */
  private readonly coef: Float64Array;
  private readonly terms: Array<[number, number, number]>;
  /** Grid: runs of columns [runStart[r], runStart[r+1]) in one x cell, runCell[r] its lower node or −1 (constant: node runNode[r]). */
  readonly runStart: Int32Array;
  readonly runA: Float64Array;
  readonly runB: Float64Array;
  /** Whether rows are runs of A + B·X (grid and constant models; `lines`), not only values (`row`). */
  readonly linear: boolean;
  readonly runCell: Int32Array;
  readonly runNode: Int32Array;
  /** Grid: t = slope·(X + ½) is the x-node coordinate of column X. */
  readonly slope: number;
  /** Grid: lower node and weight of each row's y and each slice's z (per box, so a row allocates nothing). */
  readonly yNode: Int32Array;
  readonly yWeight: Float64Array;
  readonly zNode: Int32Array;
  readonly zWeight: Float64Array;
  /** Grid nodes [z, y, x] ([1, 1, 1] for the other models). */
  readonly dims: [number, number, number] = [1, 1, 1];

  constructor(
    private readonly model: BackgroundModel, private readonly shape: Shape3, private readonly box: Box,
    private readonly factors: Factors,
  ) {
    const w = box.x1 - box.x0;
    this.values = new Float64Array(w);
    this.ux = new Float64Array(model.kind === "polynomial" ? w : 0);
    for (let x = 0; x < this.ux.length; x++) this.ux[x] = scaleCoordToNormalized(box.x0 + x, factors[0], shape[2]);
    this.terms = model.kind === "polynomial" ? polynomialTerms(model.degree) : [];
    this.coef = new Float64Array(model.kind === "polynomial" ? model.degree + 1 : model.kind === "grid" ? model.dims[2] : 0);
    const starts: number[] = [], cells: number[] = [], nodes: number[] = [];
    this.slope = 0;
    const h = model.kind === "grid" ? box.y1 - box.y0 : 0, d = model.kind === "grid" ? box.z1 - box.z0 : 0;
    this.yNode = new Int32Array(h); this.yWeight = new Float64Array(h);
    this.zNode = new Int32Array(d); this.zWeight = new Float64Array(d);
    if (model.kind === "grid") {
      const [gz, gy, gx] = model.dims;
      this.dims = [gz, gy, gx];
      for (let y = 0; y < h; y++) [this.yNode[y], this.yWeight[y]] = gridNode(scaleCoordToNormalized(box.y0 + y, factors[1], shape[1]), gy);
      for (let z = 0; z < d; z++) [this.zNode[z], this.zWeight[z]] = gridNode(scaleCoordToNormalized(box.z0 + z, factors[2], shape[0]), gz);
      this.slope = (factors[0] * (gx - 1)) / shape[2];
      let last = NaN;
      for (let x = 0; x < w; x++) {
        // the x cell of column X, or the node it is clamped to (outside the outer nodes, or one node)
        const t = this.slope * (box.x0 + x + 0.5);
        const cell = gx === 1 || t <= 0 ? -1 : t >= gx - 1 ? -2 : Math.min(Math.floor(t), gx - 2);
        if (cell === last) continue;
        last = cell;
        starts.push(x); cells.push(cell < 0 ? -1 : cell); nodes.push(cell === -2 ? gx - 1 : 0);
      }
      starts.push(w);
    }
    if (model.kind === "constant") { starts.push(0, w); cells.push(-1); nodes.push(0); }
    this.runStart = Int32Array.from(starts);
    this.runCell = Int32Array.from(cells);
    this.runNode = Int32Array.from(nodes);
    this.runA = new Float64Array(cells.length);
    this.runB = new Float64Array(cells.length);
    this.linear = model.kind !== "polynomial";
    if (model.kind === "constant") this.runA[0] = model.params[0]!;
  }

  /** The values of row (z, y), counted from the box's corner; valid until the next call. */
  row(z: number, y: number): Float64Array {
    const model = this.model, values = this.values;
    if (model.kind === "polynomial") {
      const uz = scaleCoordToNormalized(this.box.z0 + z, this.factors[2], this.shape[0]);
      const uy = scaleCoordToNormalized(this.box.y0 + y, this.factors[1], this.shape[1]);
      const deg = model.degree, terms = this.terms, coef = this.coef, ux = this.ux;
      coef.fill(0);
      for (let t = 0; t < terms.length; t++) {
        const [px, py, pz] = terms[t]!;
        coef[px] = coef[px]! + model.params[t]! * uy ** py * uz ** pz;
      }
      for (let x = 0; x < values.length; x++) {
        const u = ux[x]!;
        let v = coef[deg]!;
        for (let k = deg - 1; k >= 0; k--) v = v * u + coef[k]!;
        values[x] = v;
      }
    } else {
      this.lines(z, y);
      const runStart = this.runStart, runA = this.runA, runB = this.runB, x0 = this.box.x0;
      for (let r = 0; r + 1 < runStart.length; r++) {
        const A = runA[r]!, B = runB[r]!;
        for (let x = runStart[r]!, end = runStart[r + 1]!, X = x0 + x; x < end; x++, X++) values[x] = A + B * X;
      }
    }
    return values;
  }

  /**
   * Row (z, y) of a grid or constant model as runs: columns runStart[r] ≤ x < runStart[r+1] have
   * the value runA[r] + runB[r]·X at absolute column X = box.x0 + x (what `row` writes out).
   */
  lines(z: number, y: number): void {
    const model = this.model;
    if (model.kind !== "grid") return; // constant: one run, set once
    const gz = this.dims[0], gy = this.dims[1], gx = this.dims[2];
    const p = model.params, node = this.coef;
    const iz = this.zNode[z]!, tz = this.zWeight[z]!;
    const iz1 = Math.min(iz + 1, gz - 1);
    const iy = this.yNode[y]!, ty = this.yWeight[y]!;
    const iy1 = Math.min(iy + 1, gy - 1);
    const a = (iz * gy + iy) * gx, b = (iz * gy + iy1) * gx;
    const c = (iz1 * gy + iy) * gx, e = (iz1 * gy + iy1) * gx;
    for (let k = 0; k < gx; k++) {
      node[k] = (1 - tz) * ((1 - ty) * p[a + k]! + ty * p[b + k]!) + tz * ((1 - ty) * p[c + k]! + ty * p[e + k]!);
    }
    const runCell = this.runCell, runNode = this.runNode, runA = this.runA, runB = this.runB, s = this.slope;
    for (let r = 0; r < runCell.length; r++) {
      const k = runCell[r]!;
      // v = node[k] + (t − k)·Δ with t = s·(X + ½): A + B·X
      if (k >= 0) { const d = node[k + 1]! - node[k]!; runB[r] = s * d; runA[r] = node[k]! + (0.5 * s - k) * d; }
      else { runA[r] = node[runNode[r]!]!; runB[r] = 0; }
    }
  }
}

/**
 * Write the background over `box` (scale grid with `factors` x, y, z) of a volume of full-res
 * `shape` into `out` (box-sized, x fastest), overwriting it.
 */
export function fillBackground(
  model: BackgroundModel, shape: Shape3, box: Box, factors: Factors, out: Float32Array,
): void {
  if (model.kind === "constant") { out.fill(model.params[0]!, 0, boxVoxels(box)); return; }
  forBackgroundRows(model, shape, box, factors, (row, o, w) => { for (let x = 0; x < w; x++) out[o + x] = row[x]!; });
}

/** Add the background over `box` to `field` (box-sized, x fastest): field + background, rounded to float32 once. */
export function addBackground(
  model: BackgroundModel, shape: Shape3, box: Box, factors: Factors, field: Float32Array,
): void {
  forBackgroundRows(model, shape, box, factors, (row, o, w) => { for (let x = 0; x < w; x++) field[o + x]! += row[x]!; });
}

/**
 * Rows of `model` over a whole volume of `shape` (scale 1): row (z, y) written into a float32 row of
 * shape[2] values, exactly as fillBackground writes it over that row's box. Made once, so a caller
 * visiting many single rows allocates nothing per row (fillBackground makes its rows per call).
 */
export function volumeRows(model: BackgroundModel, shape: Shape3): (z: number, y: number, out: Float32Array) => void {
  if (model.kind === "constant") return (_z, _y, out) => { out.fill(model.params[0]!, 0, shape[2]); };
  const rows = new BackgroundRows(model, shape, { z0: 0, z1: shape[0], y0: 0, y1: shape[1], x0: 0, x1: shape[2] }, [1, 1, 1]);
  return (z, y, out) => {
    const v = rows.row(z, y);
    for (let x = 0; x < v.length; x++) out[x] = v[x]!;
  };
}

/** Hand each x-row's background values and the row's offset in a box-sized buffer to `each`. */
function forBackgroundRows(
  model: BackgroundModel, shape: Shape3, box: Box, factors: Factors,
  each: (row: Float64Array, offset: number, width: number) => void,
): void {
  const w = box.x1 - box.x0, h = box.y1 - box.y0, d = box.z1 - box.z0;
  const rows = new BackgroundRows(model, shape, box, factors);
  for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) each(rows.row(z, y), (z * h + y) * w, w);
}

/**
 * Add dL/dparams to `grad` for a full-resolution box, given dL/dfield per voxel (`residual`, box
 * sized, x fastest). The models are linear in their parameters, so this is Σ residual · basis.
 */
export function accumulateBackgroundGradient(
  model: BackgroundModel, shape: Shape3, box: Box, residual: Float32Array, grad: Float64Array,
): void {
  const [nz, ny, nx] = shape;
  const w = box.x1 - box.x0, h = box.y1 - box.y0, d = box.z1 - box.z0;
  if (model.kind === "constant") {
    let s = 0;
    for (let i = 0, n = w * h * d; i < n; i++) s += residual[i]!;
    grad[0] = grad[0]! + s;
    return;
  }
  const ux = new Float64Array(w);
  for (let x = 0; x < w; x++) ux[x] = scaleCoordToNormalized(box.x0 + x, 1, nx);
  if (model.kind === "polynomial") {
    const deg = model.degree;
    const terms = polynomialTerms(deg);
    // x powers per column, one row of them per degree, so that a row's moments are plain dot
    // products (the fitter runs this every step over the whole volume)
    const pow = new Float64Array((deg + 1) * w);
    for (let x = 0; x < w; x++) {
      let p = 1;
      for (let k = 0; k <= deg; k++) { pow[k * w + x] = p; p *= ux[x]!; }
    }
    const mom = new Float64Array(deg + 1), uyp = new Float64Array(deg + 1), uzp = new Float64Array(deg + 1);
    for (let z = 0; z < d; z++) {
      const uz = scaleCoordToNormalized(box.z0 + z, 1, nz);
      for (let k = 0; k <= deg; k++) uzp[k] = uz ** k;
      for (let y = 0; y < h; y++) {
        const uy = scaleCoordToNormalized(box.y0 + y, 1, ny);
        for (let k = 0; k <= deg; k++) uyp[k] = uy ** k;
        const o = (z * h + y) * w;
        for (let k = 0; k <= deg; k++) {
          let m = 0;
          for (let x = 0, q = k * w; x < w; x++) m += residual[o + x]! * pow[q + x]!;
          mom[k] = m;
        }
        for (let t = 0; t < terms.length; t++) {
          const term = terms[t]!;
          grad[t] = grad[t]! + mom[term[0]]! * uyp[term[1]]! * uzp[term[2]]!;
        }
      }
    }
    return;
  }
  const [gz, gy, gx] = model.dims;
  const node = gridNode;
  const rowAcc = new Float64Array(gx + 1);
  const ix = new Int32Array(w), tx = new Float64Array(w);
  for (let x = 0; x < w; x++) [ix[x], tx[x]] = node(ux[x]!, gx);
  for (let z = 0; z < d; z++) {
    const [iz, tz] = node(scaleCoordToNormalized(box.z0 + z, 1, nz), gz);
    const iz1 = Math.min(iz + 1, gz - 1);
    for (let y = 0; y < h; y++) {
      const [iy, ty] = node(scaleCoordToNormalized(box.y0 + y, 1, ny), gy);
      const iy1 = Math.min(iy + 1, gy - 1);
      rowAcc.fill(0);
      let o = (z * h + y) * w;
      for (let x = 0; x < w; x++, o++) {
        const i = ix[x]!, t = tx[x]!;
        const r = residual[o]!;
        rowAcc[i] = rowAcc[i]! + (1 - t) * r;
        rowAcc[i + 1] = rowAcc[i + 1]! + t * r;
      }
      if (gx === 1) rowAcc[0] = rowAcc[0]! + rowAcc[1]!;
      const corners: Array<[number, number]> = [
        [(iz * gy + iy) * gx, (1 - tz) * (1 - ty)], [(iz * gy + iy1) * gx, (1 - tz) * ty],
        [(iz1 * gy + iy) * gx, tz * (1 - ty)], [(iz1 * gy + iy1) * gx, tz * ty],
      ];
      for (const [base, wgt] of corners) {
        if (wgt === 0) continue;
        for (let k = 0; k < gx; k++) grad[base + k] = grad[base + k]! + wgt * rowAcc[k]!;
      }
    }
  }
}
