/**
 * Byte caps of a store's chunks at one common rate-distortion slope (docs/vmg-zarr-codec.md § 6.2).
 * Planning must be cheap, block-wise and fixed before any fit, so each block is summarised by a
 * model of its distortion-rate curve: greedy matching pursuit (the fitter's own seeding) on the
 * block's field less its median, each atom's squared-error reduction estimated as a² π^{3/2} σx σy σz
 * (the energy of the Gaussian it subtracts). Gaussians cost about the same bytes anywhere, so every
 * chunk gets the Gaussians whose estimated gain beats one slope λ, with λ set so the caps fill the
 * budget; a block gets a cap above the background-only bytes only when some Gaussian beats it.
 */
import { constantBackground } from "../core/background.js";
import { F16_RECORD_BYTES } from "../core/constants.js";
import type { Shape3 } from "../core/gaussian.js";
import { candidateModels, type BackgroundChoice } from "../fit/background-init.js";
import { O_AMP, O_LOGS, OPT_STRIDE } from "../fit/params.js";
import { pursuitSeeds } from "../fit/seed.js";
import { chunkOverheadBytes, halfGrid } from "./codec/chunk.js";
import { CHUNK_NODES, NODES } from "./continuous-background.js";
import { TYPICAL_TABLE_BYTES } from "./codec/chunk-table.js";

/**
 * What the allocation knows of a block: the estimated squared-error gains of its Gaussians, largest
 * first, as a curve of bounded size — the gains at the ranks of GAIN_RANKS below `count` and at rank
 * count − 1, linear between (gainAt). Exact for blocks of up to 17 Gaussians; beyond, a point every
 * quarter of the rank (≤ 2.4 % off a power-law curve), so a block costs at most 100 floats whatever
 * its voxels, 61 for a 64³ chunk (the planning pass holds one per chunk: the 4·10^5 chunks of a
 * 10^11-voxel volume in 0.14 GB, where the gains themselves, ~550 per 64³ chunk of trailmap, would
 * take 1.7 GB).
 */
export interface BlockStats {
  count: number;
  /** Gains at ranks GAIN_RANKS[0 … gains.length − 2] and count − 1 (non-increasing, float32). */
  gains: Float32Array;
}

export const NO_GAINS: BlockStats = { count: 0, gains: new Float32Array(0) };

/** Ranks kept exactly, then each step a quarter of the rank (integer steps, so every platform agrees). */
const EXACT_RANKS = 16;
const GAIN_RANKS: number[] = [];
for (let r = 0; r < 2 ** 31; r += r < EXACT_RANKS ? 1 : Math.floor(r / 4)) GAIN_RANKS.push(r);

/** The curve of gains sorted largest first. */
export function summariseGains(sorted: ArrayLike<number>): BlockStats {
  const n = sorted.length;
  if (n === 0) return NO_GAINS;
  const points: number[] = [];
  for (let j = 0; GAIN_RANKS[j]! < n - 1; j++) points.push(sorted[GAIN_RANKS[j]!]!);
  points.push(sorted[n - 1]!);
  return { count: n, gains: Float32Array.from(points) };
}

/** Rank of the curve's point j. */
function pointRank(s: BlockStats, j: number): number {
  return j === s.gains.length - 1 ? s.count - 1 : GAIN_RANKS[j]!;
}

/** The gain of the block's Gaussian of rank k (0: its best), 0 past its last. */
export function gainAt(s: BlockStats, k: number): number {
  if (k >= s.count) return 0;
  // the last point at or below k
  let lo = 0, hi = s.gains.length - 1;
  while (lo < hi) { const m = (lo + hi + 1) >> 1; if (pointRank(s, m) <= k) lo = m; else hi = m - 1; }
  return segment(s, lo, k);
}

/** The curve between points j and j + 1 at rank k. */
function segment(s: BlockStats, j: number, k: number): number {
  const a = pointRank(s, j);
  if (k === a || j === s.gains.length - 1) return s.gains[j]!;
  const g = s.gains[j]!, h = s.gains[j + 1]!;
  return g - ((g - h) * (k - a)) / (pointRank(s, j + 1) - a);
}

/** How many of the block's Gaussians gain at least `t` (gainAt(k) ≥ t for k below it). */
function countAtLeast(s: BlockStats, t: number): number {
  const p = s.gains;
  if (s.count === 0 || !(p[0]! >= t)) return 0;
  // the last point at or above t, then the ranks of its segment
  let lo = 0, hi = p.length - 1;
  while (lo < hi) { const m = (lo + hi + 1) >> 1; if (p[m]! >= t) lo = m; else hi = m - 1; }
  if (lo === p.length - 1) return s.count;
  let a = pointRank(s, lo), b = pointRank(s, lo + 1); // segment(a) ≥ t > segment(b)
  while (b - a > 1) { const m = Math.floor((a + b) / 2); if (segment(s, lo, m) >= t) a = m; else b = m; }
  return a + 1;
}

/** The fitter's pursuit stops below this residual (field units): nothing fainter is worth a Gaussian. */
const MIN_AMPLITUDE = 0.01;
const GAUSSIAN_ENERGY = Math.PI ** 1.5;
/** A packed record's typical bytes (the fitter's starting estimate; measured 9.5–9.6 on DIADEM and trailmap). */
const PACKED_BYTES_PER_GAUSSIAN = 9.5;

/**
 * Statistics of a block from its chunk's voxels in field units ((value − a)/b), z, y, x order: at most
 * `maxGaussians` gains (no block can be given more). Blocks with nothing above `gate` have none.
 */
export function blockStats(field: ArrayLike<number>, shape: Shape3, gate: number, maxGaussians: number): BlockStats {
  const n = field.length;
  let above = false;
  for (let i = 0; i < n && !above; i++) above = field[i]! > gate;
  if (!above || maxGaussians < 1 || shape.some((s) => s < 2)) return NO_GAINS;
  const median = quantile(field, 0.5);
  const residual = new Float32Array(n);
  for (let i = 0; i < n; i++) residual[i] = field[i]! - median;
  const seeds = pursuitSeeds(residual, shape, { count: maxGaussians, minAmplitude: MIN_AMPLITUDE });
  const gains = new Float64Array(seeds.length / OPT_STRIDE);
  for (let k = 0; k < gains.length; k++) {
    const b = k * OPT_STRIDE;
    gains[k] = seeds[b + O_AMP]! ** 2 * GAUSSIAN_ENERGY * Math.exp(seeds[b + O_LOGS]! + seeds[b + O_LOGS + 1]! + seeds[b + O_LOGS + 2]!);
  }
  return summariseGains(gains.sort().reverse());
}

function quantile(v: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(v).sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export interface ChunkCosts {
  /** Bytes of one Gaussian in a chunk (typical packed record). */
  perGaussian: number;
  /** Bytes of a chunk with Gaussians besides them: header, background, packed table. */
  structured: number;
  /** Bytes of a background-only chunk. */
  empty: number;
}

/**
 * Byte caps of blocks sharing `total` at one common slope: their sum never exceeds `total`. Block i
 * gets K_i Gaussians, those whose gain per byte beats λ, as `structured + K_i · perGaussian` bytes
 * (or `empty`, or empty[i] where given: what that block's background-only chunk takes, when K_i = 0); λ is the smallest slope whose caps fit. What that leaves buys the next
 * best Gaussians of structured blocks, and the last bytes go to them in proportion to K_i.
 */
export function allocateCaps(stats: readonly BlockStats[], total: number, c: ChunkCosts, empty?: ArrayLike<number>): number[] {
  const count = (s: BlockStats, lambda: number) => countAtLeast(s, lambda * c.perGaussian);
  const cost = (k: number, i: number) => (k > 0 ? c.structured + k * c.perGaussian : (empty?.[i] ?? c.empty));
  const spend = (lambda: number) => stats.reduce((n, s, i) => n + cost(count(s, lambda), i), 0);
  // loops, not spread arguments: a level may have millions of chunks
  let top = 0, least = Infinity;
  for (const s of stats) {
    top = Math.max(top, s.gains[0] ?? 0);
    if (s.gains.length) least = Math.min(least, s.gains[s.gains.length - 1]!);
  }
  top /= c.perGaussian;
  let lambda = top * 2 + 1;
  if (spend(lambda) > total) return stats.map(() => Math.floor(Math.max(0, total) / Math.max(1, stats.length)));
  // bisect in log space between "nothing fits" (above every gain) and the smallest positive gain
  let lo = Math.min(top, least / c.perGaussian) / 2;
  if (lo > 0 && spend(lo) <= total) lambda = lo;
  else {
    let hi = lambda;
    lo = Math.max(lo, Number.MIN_VALUE);
    for (let i = 0; i < 60; i++) {
      const m = Math.sqrt(lo * hi);
      if (spend(m) <= total) hi = m; else lo = m;
    }
    lambda = hi;
  }
  const ks = stats.map((s) => count(s, lambda));
  let left = total - ks.reduce((n, k, i) => n + cost(k, i), 0);
  // the next Gaussians of the structured blocks, best first, while a whole one fits (a block of none
  // would need its fixed bytes too: that is what stopped the slope)
  for (;;) {
    let best = -1;
    ks.forEach((k, i) => { if (k > 0 && k < stats[i]!.count && (best < 0 || gainAt(stats[i]!, k) > gainAt(stats[best]!, ks[best]!))) best = i; });
    if (best < 0 || left < c.perGaussian) break;
    ks[best]!++;
    left -= c.perGaussian;
  }
  const kSum = ks.reduce((n, k) => n + k, 0);
  return ks.map((k, i) => Math.floor(cost(k, i) + (kSum > 0 ? (left * k) / kSum : 0)));
}

/**
 * A chunk's costs for a background choice and encoding: the largest background it may fit (or, for
 * the store's continuous background, its nodes: kind 3, which a background-only chunk stores
 * too), the packed table. The candidates' coefficients are zeros, float16 numbers, so a polynomial
 * head is counted as kind 4 stores it (what integer volumes get); a chunk whose coefficients stay
 * float32 is 2 bytes a coefficient over that estimate and its fit trims to its cap (block-fit.ts).
 */
export function chunkCosts(background: BackgroundChoice | "continuous", encoding: "packed" | "f16", chunk: Shape3): ChunkCosts {
  const nodes = halfGrid(new Float64Array(CHUNK_NODES), NODES);
  const head = background === "continuous" ? chunkOverheadBytes(nodes, 1 << 14) : Math.max(...candidateModels(background, chunk).map((m) => chunkOverheadBytes(m, 1 << 14)));
  const empty = chunkOverheadBytes(background === "continuous" ? nodes : constantBackground(0), 0);
  return encoding === "packed"
    ? { perGaussian: PACKED_BYTES_PER_GAUSSIAN, structured: head + TYPICAL_TABLE_BYTES, empty }
    : { perGaussian: F16_RECORD_BYTES, structured: head, empty };
}

/**
 * Coarse levels (zoomed-out views) together take at most this share of the store's budget, their
 * metadata and shard indexes included (issue #14's target is 15 %: this leaves room for rounding).
 */
export const COARSE_SHARE = 0.14;

/**
 * Chunk bytes of each level, finest first, from `chunkBytes` (the budget less every level's metadata
 * and indexes): in proportion to the levels' voxels (the same bits per voxel), except that the coarse
 * levels, with their own metadata and indexes (`fixed`), stay within COARSE_SHARE of `budget` where
 * their background-only chunks (`min`) allow; what they give up goes to the finest level. The shares
 * never sum above `chunkBytes`.
 */
export function levelChunkBytes(chunkBytes: number, budget: number, levels: ReadonlyArray<{ voxels: number; fixed: number; min: number }>): number[] {
  const voxels = levels.reduce((n, l) => n + l.voxels, 0);
  const share = levels.map((l) => (chunkBytes * l.voxels) / voxels);
  const coarse = share.slice(1).reduce((n, s) => n + s, 0);
  const limit = Math.max(0, COARSE_SHARE * budget - levels.slice(1).reduce((n, l) => n + l.fixed, 0));
  const scale = coarse > limit ? limit / coarse : 1;
  const out = share.map((s, i) => (i === 0 ? s : Math.max(levels[i]!.min, Math.floor(s * scale))));
  out[0] = Math.floor(chunkBytes - out.slice(1).reduce((n, s) => n + s, 0));
  return out;
}
