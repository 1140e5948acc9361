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
 * Write the background over `box` (scale grid with `factors` x, y, z) of a volume of full-res
 * `shape` into `out` (box-sized, x fastest), overwriting it.
 */
export function fillBackground(
  model: BackgroundModel, shape: Shape3, box: Box, factors: Factors, out: Float32Array,
): void {
  const [nz, ny, nx] = shape;
  const [fx, fy, fz] = factors;
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  const d = box.z1 - box.z0;
  if (model.kind === "constant") {
    out.fill(model.params[0]!, 0, w * h * d);
    return;
  }
  const ux = new Float64Array(w);
  for (let x = 0; x < w; x++) ux[x] = scaleCoordToNormalized(box.x0 + x, fx, nx);
  if (model.kind === "polynomial") {
    const deg = model.degree;
    const terms = polynomialTerms(deg);
    const coef = new Float64Array(deg + 1);
    for (let z = 0; z < d; z++) {
      const uz = scaleCoordToNormalized(box.z0 + z, fz, nz);
      for (let y = 0; y < h; y++) {
        const uy = scaleCoordToNormalized(box.y0 + y, fy, ny);
        coef.fill(0);
        for (let t = 0; t < terms.length; t++) {
          const [px, py, pz] = terms[t]!;
          coef[px] = coef[px]! + model.params[t]! * uy ** py * uz ** pz;
        }
        let o = (z * h + y) * w;
        for (let x = 0; x < w; x++) {
          const u = ux[x]!;
          let v = coef[deg]!;
          for (let k = deg - 1; k >= 0; k--) v = v * u + coef[k]!;
          out[o++] = v;
        }
      }
    }
    return;
  }
  const [gz, gy, gx] = model.dims;
  const node = gridNode;
  const ix = new Int32Array(w);
  const tx = new Float64Array(w);
  for (let x = 0; x < w; x++) [ix[x], tx[x]] = node(ux[x]!, gx);
  const row = new Float64Array(gx + 1);
  const p = model.params;
  for (let z = 0; z < d; z++) {
    const [iz, tz] = node(scaleCoordToNormalized(box.z0 + z, fz, nz), gz);
    const iz1 = Math.min(iz + 1, gz - 1);
    for (let y = 0; y < h; y++) {
      const [iy, ty] = node(scaleCoordToNormalized(box.y0 + y, fy, ny), gy);
      const iy1 = Math.min(iy + 1, gy - 1);
      const a = (iz * gy + iy) * gx, b = (iz * gy + iy1) * gx;
      const c = (iz1 * gy + iy) * gx, e = (iz1 * gy + iy1) * gx;
      for (let k = 0; k < gx; k++) {
        row[k] = (1 - tz) * ((1 - ty) * p[a + k]! + ty * p[b + k]!) + tz * ((1 - ty) * p[c + k]! + ty * p[e + k]!);
      }
      row[gx] = row[gx - 1]!;
      let o = (z * h + y) * w;
      for (let x = 0; x < w; x++) {
        const i = ix[x]!, t = tx[x]!;
        out[o++] = row[i]! + t * (row[i + 1]! - row[i]!);
      }
    }
  }
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
