/**
 * Density control: the discrete structure updates between optimiser steps. Gaussians are pruned
 * when weak, split (large ones) or cloned (small ones) where the positional gradient stays high,
 * merged when two represent one structure, and respawned at the largest residuals, under a capacity
 * that follows a coarse-to-fine schedule.
 */
import { K_AMP, KERNEL_STRIDE, PARAMS_PER_GAUSSIAN } from "../core/constants.js";
import { prepareKernel, quatToRotation, supportHalfExtents, type Shape3 } from "../core/gaussian.js";
import { prepareKernels } from "../decode/kernels.js";
import { splatKernel } from "../decode/splat.js";
import { M_E, M_R, MOMENT_STRIDE } from "./gradient.js";
import { rotationToQuaternion, symmetricEigen3 } from "./linalg.js";
import { O_AMP, O_LOGS, O_POS, O_ROT, OPT_STRIDE, toFileParams } from "./params.js";
import { RecordedRows } from "./recorded-rows.js";

/** Squared L2 norm of a Gaussian up to a constant: amp² · s_x s_y s_z. */
export function importance(opt: Float64Array, i: number): number {
  const b = i * OPT_STRIDE;
  return opt[b + O_AMP]! ** 2 * Math.exp(opt[b + O_LOGS]! + opt[b + O_LOGS + 1]! + opt[b + O_LOGS + 2]!);
}

/**
 * Capacity at a step: from `start` up to `peak`·budget by 40 % of the run, back to the budget by
 * 70 %, then the budget.
 */
export function capacity(step: number, total: number, start: number, budget: number, peak: number): number {
  const t = step / total;
  const top = Math.max(start, Math.round(peak * budget));
  if (t < 0.4) return Math.round(start + (top - start) * (t / 0.4));
  if (t < 0.7) return Math.round(top + (budget - top) * ((t - 0.4) / 0.3));
  return budget;
}

/** Indices of the `n` smallest values (ties by index). */
export function smallest(values: Float64Array, n: number): number[] {
  return Array.from(values.keys()).sort((a, b) => values[a]! - values[b]! || a - b).slice(0, n);
}

/** Indices of the `n` largest values (ties by index). */
export function largest(values: Float64Array, n: number): number[] {
  return Array.from(values.keys()).sort((a, b) => values[b]! - values[a]! || a - b).slice(0, n);
}

/** Keep the rows of `keep` (in order) and append `added` rows. */
export function compact(opt: Float64Array, keep: number[], added: Float64Array): Float64Array {
  const out = new Float64Array(keep.length * OPT_STRIDE + added.length);
  keep.forEach((src, i) => out.set(opt.subarray(src * OPT_STRIDE, (src + 1) * OPT_STRIDE), i * OPT_STRIDE));
  out.set(added, keep.length * OPT_STRIDE);
  return out;
}

/**
 * Split Gaussian `i` in two along its longest axis (each half 1/1.6 as long, ±0.6σ apart), or clone
 * it when it is small (two copies ±0.3σ apart sharing the amplitude). Writes the first child over row i of
 * `opt` and returns the second.
 */
export function splitOrClone(opt: Float64Array, i: number, splitAbove: number): Float64Array {
  const b = i * OPT_STRIDE;
  const row = opt.slice(b, b + OPT_STRIDE);
  const logs = [row[O_LOGS]!, row[O_LOGS + 1]!, row[O_LOGS + 2]!];
  const axis = logs.indexOf(Math.max(...logs));
  const s = Math.exp(logs[axis]!);
  const child = row.slice();
  const split = s > splitAbove;
  // clones are offset too (±0.3σ), or both copies would get identical gradients forever
  const d = (split ? 0.6 : 0.3) * s;
  const R = quatToRotation(row[O_ROT]!, row[O_ROT + 1]!, row[O_ROT + 2]!, row[O_ROT + 3]!);
  for (let j = 0; j < 3; j++) {
    const dir = R[3 * j + axis]!; // column `axis` of R: the local axis in volume coordinates
    row[O_POS + j] = row[O_POS + j]! + d * dir;
    child[O_POS + j] = child[O_POS + j]! - d * dir;
  }
  if (split) row[O_LOGS + axis] = child[O_LOGS + axis] = logs[axis]! - Math.log(1.6);
  else row[O_AMP] = child[O_AMP] = row[O_AMP]! / 2;
  opt.set(row, b);
  return child;
}

/** Covariance (x, y, z; row-major 3×3) of optimiser row i. */
function covarianceOf(opt: Float64Array, i: number): number[] {
  const b = i * OPT_STRIDE;
  const R = quatToRotation(opt[b + O_ROT]!, opt[b + O_ROT + 1]!, opt[b + O_ROT + 2]!, opt[b + O_ROT + 3]!);
  const s2 = [0, 1, 2].map((j) => Math.exp(2 * opt[b + O_LOGS + j]!));
  const c = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let q = 0; q < 3; q++) for (let k = 0; k < 3; k++) c[3 * r + q] = c[3 * r + q]! + R[3 * r + k]! * R[3 * q + k]! * s2[k]!;
  return c;
}

/**
 * Replace row i by the moment-matched merge of rows i and j (mass-weighted centre, covariance
 * including the spread of the centres, amplitude preserving total mass). Row j is left for the
 * caller to drop.
 */
export function mergeInto(opt: Float64Array, i: number, j: number): void {
  const bi = i * OPT_STRIDE, bj = j * OPT_STRIDE;
  const mass = (b: number) => opt[b + O_AMP]! * Math.exp(opt[b + O_LOGS]! + opt[b + O_LOGS + 1]! + opt[b + O_LOGS + 2]!);
  const wi = mass(bi), wj = mass(bj), W = wi + wj;
  const ci = covarianceOf(opt, i), cj = covarianceOf(opt, j);
  // typed temporaries: an array literal or map() holds small integers (a centre on a voxel, an
  // axis-aligned quaternion) in another elements kind, and `opt.set` compiled for one kind then
  // deoptimised ("wrong map") and was recompiled on every fit
  const mu = new Float64Array(3);
  for (let t = 0; t < 3; t++) mu[t] = (wi * opt[bi + t]! + wj * opt[bj + t]!) / W;
  const cov = new Array<number>(9);
  for (let r = 0; r < 3; r++) for (let q = 0; q < 3; q++) {
    const di = (opt[bi + r]! - mu[r]!) * (opt[bi + q]! - mu[q]!), dj = (opt[bj + r]! - mu[r]!) * (opt[bj + q]! - mu[q]!);
    cov[3 * r + q] = (wi * (ci[3 * r + q]! + di) + wj * (cj[3 * r + q]! + dj)) / W;
  }
  const { values, vectors } = symmetricEigen3(cov);
  const q = Float64Array.from(rotationToQuaternion(vectors));
  const logs = Float64Array.from(values, (v) => 0.5 * Math.log(Math.max(v, 1e-4)));
  opt.set(mu, bi + O_POS);
  opt.set(logs, bi + O_LOGS);
  opt.set(q, bi + O_ROT);
  opt[bi + O_AMP] = W / Math.exp(logs[0]! + logs[1]! + logs[2]!);
}

const kernelIntegrals = new Map<string, number>();
/** ∫ k(q)^p dV for unit scales (p = 1: mass, 2: energy) of the shifted, truncated kernel, by radial quadrature. */
export function kernelIntegral(r: number, p: 1 | 2): number {
  const key = `${r}:${p}`;
  let v = kernelIntegrals.get(key);
  if (v === undefined) {
    const f0 = Math.exp(-0.5 * r * r);
    let s = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const x = ((i + 0.5) / n) * r;
      s += ((Math.exp(-0.5 * x * x) - f0) / (1 - f0)) ** p * 4 * Math.PI * x * x * (r / n);
    }
    kernelIntegrals.set(key, (v = s));
  }
  return v;
}

const lossRows = new RecordedRows();
let lossField = new Float32Array(0);

/**
 * First-order loss changes against a residual (target − field), per Gaussian of `opt`:
 *   cost of removing i:  Σ c_i² + 2 Σ res·c_i
 *   gain of adding j at its best amplitude: (Σ res·k_j)² / Σ k_j²
 * with Σ k² from the kernel's energy integral and Σ res·k from a moments pass over the residual.
 */
export function lossChanges(opt: Float64Array, count: number, residual: Float32Array, shape: Shape3, radius: number): { cost: Float64Array; gain: Float64Array } {
  const params = new Float32Array(count * PARAMS_PER_GAUSSIAN);
  toFileParams(opt, count, shape, params);
  const kernels = prepareKernels(params, shape, [1, 1, 1], radius);
  const moments = new Float64Array(count * MOMENT_STRIDE);
  const box = { z0: 0, z1: shape[0], y0: 0, y1: shape[1], x0: 0, x1: shape[2] };
  // the moments through the recording splat (its field is not needed) rather than accumulateMoments:
  // the same sums, and the row walk then sees one visitor fewer in a fit (a walk called with three
  // or more kinds of visitor can no longer inline their row(), and boxes every number it passes)
  if (lossField.length < residual.length) lossField = new Float32Array(residual.length);
  else lossField.fill(0);
  lossRows.splat(kernels.k, Uint32Array.from({ length: kernels.count }, (_, i) => i), box, lossField);
  lossRows.moments(kernels.k, kernels.source, residual, moments);
  const f0 = Math.exp(-0.5 * radius * radius);
  const e2 = kernelIntegral(radius, 2);
  const cost = new Float64Array(count), gain = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const b = i * OPT_STRIDE;
    const sumK2 = e2 * Math.exp(opt[b + O_LOGS]! + opt[b + O_LOGS + 1]! + opt[b + O_LOGS + 2]!);
    const resK = (moments[i * MOMENT_STRIDE + M_E]! - f0 * moments[i * MOMENT_STRIDE + M_R]!) / (1 - f0);
    const amp = opt[b + O_AMP]!;
    cost[i] = amp * amp * sumK2 + 2 * amp * resK;
    gain[i] = (resK * resK) / sumK2;
  }
  return { cost, gain };
}

/** A structure edit that frees one slot: remove `i`, or merge `j` into `i` (then remove `j`). */
export interface FreeingEdit {
  i: number;
  j?: number;
  cost: number;
}

/** The bucket of a cell of mergeEdits' grid: a number (a string key per lookup was most of its garbage), clamped far outside any block. */
function cellKey(x: number, y: number, z: number): number {
  const c = (v: number) => Math.min(CELL_RANGE, Math.max(-CELL_RANGE, v)) + CELL_RANGE;
  return (c(z) * CELL_SPAN + c(y)) * CELL_SPAN + c(x);
}
const CELL_RANGE = 2 ** 15, CELL_SPAN = 2 * CELL_RANGE + 1;

/**
 * First-order loss change of merging each Gaussian with its nearest same-sign neighbour (within
 * 3 σ), evaluated on the grid: with d = c_i + c_j − c_merged over the pair's support,
 * ΔL = Σ d² + 2 Σ res·d. Split halves of one blob merge at almost no cost; neighbours that carry
 * different structures do not.
 */
export function mergeEdits(opt: Float64Array, count: number, residual: Float32Array, shape: Shape3, radius: number): FreeingEdit[] {
  const [nz, ny, nx] = shape;
  const k = new Float64Array(3 * KERNEL_STRIDE);
  const one = new Float32Array(PARAMS_PER_GAUSSIAN);
  const row = new Float64Array(OPT_STRIDE * 2);
  const seen = new Set<number>();
  const edits: FreeingEdit[] = [];
  const cell = 6;
  const buckets = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const b = i * OPT_STRIDE;
    const kk = cellKey(Math.floor(opt[b]! / cell), Math.floor(opt[b + 1]! / cell), Math.floor(opt[b + 2]! / cell));
    const bucket = buckets.get(kk);
    if (bucket) bucket.push(i);
    else buckets.set(kk, [i]);
  }
  let buf = new Float32Array(0);
  for (let i = 0; i < count; i++) {
    const b = i * OPT_STRIDE;
    const si = Math.exp(Math.max(opt[b + O_LOGS]!, opt[b + O_LOGS + 1]!, opt[b + O_LOGS + 2]!));
    let best = -1, bestD = Infinity;
    const cx = Math.floor(opt[b]! / cell), cy = Math.floor(opt[b + 1]! / cell), cz = Math.floor(opt[b + 2]! / cell);
    for (let dz = -1; dz <= 1; dz++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const bucket = buckets.get(cellKey(cx + dx, cy + dy, cz + dz));
      if (bucket === undefined) continue;
      for (let n = 0; n < bucket.length; n++) {
        const j = bucket[n]!;
        if (j === i || Math.sign(opt[b + O_AMP]!) !== Math.sign(opt[j * OPT_STRIDE + O_AMP]!)) continue;
        const d = Math.hypot(opt[b]! - opt[j * OPT_STRIDE]!, opt[b + 1]! - opt[j * OPT_STRIDE + 1]!, opt[b + 2]! - opt[j * OPT_STRIDE + 2]!);
        if (d < bestD) { bestD = d; best = j; }
      }
    }
    if (best < 0) continue;
    const sj = Math.exp(Math.max(opt[best * OPT_STRIDE + O_LOGS]!, opt[best * OPT_STRIDE + O_LOGS + 1]!, opt[best * OPT_STRIDE + O_LOGS + 2]!));
    if (bestD > 3 * Math.max(si, sj)) continue;
    const pairKey = Math.min(i, best) * count + Math.max(i, best);
    if (seen.has(pairKey)) continue;
    seen.add(pairKey);
    // kernels of i, j and (negated) their merge
    row.set(opt.subarray(b, b + OPT_STRIDE), 0);
    row.set(opt.subarray(best * OPT_STRIDE, (best + 1) * OPT_STRIDE), OPT_STRIDE);
    const merged = row.slice(0, OPT_STRIDE * 2);
    mergeInto(merged, 0, 1);
    merged[O_AMP] = -merged[O_AMP]!;
    const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
    for (const [src, at, slot] of [[row, 0, 0], [row, 1, 1], [merged, 0, 2]] as const) {
      toFileParams(src.subarray(at * OPT_STRIDE, (at + 1) * OPT_STRIDE), 1, shape, one);
      prepareKernel(one, 0, shape, [1, 1, 1], radius, k, slot * KERNEL_STRIDE);
      const h = supportHalfExtents(k, slot * KERNEL_STRIDE);
      for (let a = 0; a < 3; a++) {
        lo[a] = Math.min(lo[a]!, Math.ceil(k[slot * KERNEL_STRIDE + a]! - h[a]!));
        hi[a] = Math.max(hi[a]!, Math.floor(k[slot * KERNEL_STRIDE + a]! + h[a]!));
      }
    }
    const box = {
      x0: Math.max(0, lo[0]!), x1: Math.min(nx, hi[0]! + 1), y0: Math.max(0, lo[1]!), y1: Math.min(ny, hi[1]! + 1),
      z0: Math.max(0, lo[2]!), z1: Math.min(nz, hi[2]! + 1),
    };
    if (box.x0 >= box.x1 || box.y0 >= box.y1 || box.z0 >= box.z1) continue;
    const w = box.x1 - box.x0, h = box.y1 - box.y0, n = w * h * (box.z1 - box.z0);
    if (buf.length < n) buf = new Float32Array(n);
    const d = buf.subarray(0, n);
    d.fill(0);
    for (let slot = 0; slot < 3; slot++) if (k[slot * KERNEL_STRIDE + K_AMP] !== 0) splatKernel(k, slot * KERNEL_STRIDE, box, d);
    let dd = 0, rd = 0;
    for (let z = box.z0, o = 0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++) {
      let src = (z * ny + y) * nx + box.x0;
      for (let x = 0; x < w; x++, o++, src++) { dd += d[o]! * d[o]!; rd += residual[src]! * d[o]!; }
    }
    // residual = target − field; the merge changes the field by −d, so the residual by +d
    edits.push({ i: Math.min(i, best), j: Math.max(i, best), cost: dd + 2 * rd });
  }
  return edits;
}

/**
 * Apply the cheapest freeing edits (removals and merges, each Gaussian used once) until `n` slots
 * are free; merges are applied to `opt` in place. Returns the indices to drop.
 */
export function planFreeing(opt: Float64Array, removalCost: Float64Array, candidates: number[], merges: FreeingEdit[], n: number, budgetCheck?: (cost: number, k: number) => boolean): Set<number> {
  const allowed = new Set(candidates);
  const options: FreeingEdit[] = [...candidates.map((i) => ({ i, cost: removalCost[i]! })), ...merges.filter((m) => allowed.has(m.i) && allowed.has(m.j!))];
  options.sort((a, b) => a.cost - b.cost);
  const used = new Set<number>(), drop = new Set<number>();
  for (const e of options) {
    if (drop.size >= n) break;
    if (used.has(e.i) || (e.j !== undefined && used.has(e.j))) continue;
    if (budgetCheck && !budgetCheck(e.cost, drop.size)) break;
    used.add(e.i);
    if (e.j === undefined) { drop.add(e.i); continue; }
    used.add(e.j);
    mergeInto(opt, e.i, e.j);
    drop.add(e.j);
  }
  return drop;
}
