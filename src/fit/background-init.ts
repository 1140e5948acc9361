/**
 * Initial background: least squares over voxels outside the occupancy gate, for each candidate
 * model, then the simplest model that is clearly better. The basis columns come from the
 * background's own rows (volumeRows, unit parameter vectors), so the fit uses exactly the decoder's model.
 */
import { backgroundParamCount, polynomialTerms, volumeRows, type BackgroundModel } from "../core/background.js";
import type { Shape3 } from "../core/gaussian.js";
import { Random } from "../core/random.js";
import { solveSpd } from "./linalg.js";

export type BackgroundChoice = "auto" | "constant" | `poly${number}` | `grid${number}`;

export function candidateModels(choice: BackgroundChoice, shape: Shape3): BackgroundModel[] {
  const make = (c: string): BackgroundModel => {
    if (c === "constant") return { kind: "constant", params: new Float64Array(1) };
    const poly = /^poly(\d)$/.exec(c);
    if (poly) { const degree = Number(poly[1]); return { kind: "polynomial", degree, params: new Float64Array(polynomialTerms(degree).length) }; }
    const grid = /^grid(\d+)$/.exec(c);
    if (grid) {
      const g = Number(grid[1]);
      // nodes per axis ∝ extent, at most g, at least 1 (thin stacks stay 1–2 nodes deep)
      const longest = Math.max(...shape);
      const dims = shape.map((n) => Math.max(1, Math.min(g, Math.round((g * n) / longest)))) as [number, number, number];
      return { kind: "grid", dims, params: new Float64Array(backgroundParamCount({ kind: "grid", dims })) };
    }
    throw new Error(`unknown background model "${c}" (constant, poly1..poly4, grid2..grid16, auto)`);
  };
  return choice === "auto" ? ["constant", "poly2", "grid4", "grid6"].map(make) : [make(choice)];
}

interface Sample {
  rows: Array<{ z: number; y: number }>;
}

/** Least-squares fit of `model` to `target` where `gate` is 0, over a random sample of x-rows. Returns the mean squared residual. */
export function fitBackgroundLS(model: BackgroundModel, target: Float32Array, gate: Uint8Array, shape: Shape3, sample: Sample): number {
  const P = model.params.length;
  const AtA = new Float64Array(P * P), Atb = new Float64Array(P);
  const used = accumulateNormalEquations(model, target, gate, shape, sample, AtA, Atb);
  for (let i = 0; i < P; i++) for (let j = 0; j < i; j++) AtA[j * P + i] = AtA[i * P + j]!;
  model.params.set(solveSpd(AtA, Atb, P, 1e-6));
  return used ? sampleSse(model, target, gate, shape, sample) / used : 0;
}

/**
 * The lower triangle of AᵀA and Aᵀb of `model`'s basis over the sampled ungated voxels; returns
 * their count. Its own function, like sampleSse: V8 compiles a hot loop on the fly (OSR) and, in
 * one function with the code after it, kept deoptimising there on every fit.
 */
function accumulateNormalEquations(model: BackgroundModel, target: Float32Array, gate: Uint8Array, shape: Shape3, sample: Sample, AtA: Float64Array, Atb: Float64Array): number {
  const [, ny, nx] = shape;
  const P = model.params.length;
  const cols = Array.from({ length: P }, () => new Float32Array(nx));
  // basis t: the model with unit parameter vector t, its rows made once (not once per sampled row)
  const basis = Array.from({ length: P }, (_, t) => {
    const params = new Float64Array(P);
    params[t] = 1;
    return volumeRows({ ...model, params } as BackgroundModel, shape);
  });
  let used = 0;
  for (const { z, y } of sample.rows) {
    for (let t = 0; t < P; t++) basis[t]!(z, y, cols[t]!);
    const base = (z * ny + y) * nx;
    const nonzero: number[] = [];
    for (let x = 0; x < nx; x++) {
      if (gate[base + x]) continue;
      const b = target[base + x]!;
      used++;
      // grid bases have at most 8 non-zero columns per voxel: visit only those
      nonzero.length = 0;
      for (let i = 0; i < P; i++) if (cols[i]![x] !== 0) nonzero.push(i);
      for (let a = 0; a < nonzero.length; a++) {
        const i = nonzero[a]!, ci = cols[i]![x]!;
        Atb[i] = Atb[i]! + ci * b;
        for (let c = 0; c <= a; c++) {
          const j = nonzero[c]!;
          AtA[i * P + j] = AtA[i * P + j]! + ci * cols[j]![x]!;
        }
      }
    }
  }
  return used;
}

/** Σ (model − target)² over the sampled ungated voxels. */
function sampleSse(model: BackgroundModel, target: Float32Array, gate: Uint8Array, shape: Shape3, sample: Sample): number {
  const [, ny, nx] = shape;
  let sse = 0;
  const fitted = new Float32Array(nx), fittedRow = volumeRows(model, shape);
  for (const { z, y } of sample.rows) {
    fittedRow(z, y, fitted);
    const base = (z * ny + y) * nx;
    for (let x = 0; x < nx; x++) if (!gate[base + x]) sse += (fitted[x]! - target[base + x]!) ** 2;
  }
  return sse;
}

/**
 * Fit every candidate and keep the simplest whose background error is not beaten by ≥ 10 % by a
 * richer one that fits in `maxParamBytes`.
 */
export function initialBackground(
  choice: BackgroundChoice, target: Float32Array, gate: Uint8Array, shape: Shape3, maxParamBytes: number, seed: number,
): { model: BackgroundModel; mse: number; tried: Array<{ model: string; mse: number }> } {
  const rng = new Random(seed ^ 0x5bd1e995);
  const [nz, ny, nx] = shape;
  const nRows = Math.min(nz * ny, Math.max(64, Math.floor(300_000 / nx)));
  const rows = Array.from({ length: nRows }, (_, i) =>
    nRows === nz * ny ? { z: Math.floor(i / ny), y: i % ny } : { z: rng.int(nz), y: rng.int(ny) });
  const candidates = candidateModels(choice, shape).filter((m, i) => i === 0 || m.params.length * 4 <= maxParamBytes);
  const tried: Array<{ model: string; mse: number }> = [];
  let best: { model: BackgroundModel; mse: number } | undefined;
  for (const m of candidates) {
    const mse = fitBackgroundLS(m, target, gate, shape, { rows });
    tried.push({ model: describeBackground(m), mse });
    if (!best || mse < 0.9 * best.mse) best = { model: m, mse };
  }
  return { ...best!, tried };
}

export function describeBackground(m: BackgroundModel): string {
  return m.kind === "constant" ? "constant" : m.kind === "polynomial" ? `polynomial degree ${m.degree}` : `grid ${m.dims.join("x")}`;
}
