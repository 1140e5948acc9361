/**
 * Density control: the discrete structure updates between optimiser steps. Gaussians are pruned
 * when weak, split (large ones) or cloned (small ones) where the positional gradient stays high,
 * and respawned at the largest residuals, under a capacity that follows a coarse-to-fine schedule.
 */
import { quatToRotation } from "../core/gaussian.js";
import { O_AMP, O_LOGS, O_POS, O_ROT, OPT_STRIDE } from "./params.js";

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
