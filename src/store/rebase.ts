/**
 * Moving a fit made on a block with a halo into a chunk's own frame (docs/vmg-zarr-codec.md § 4):
 * Gaussians and polynomial backgrounds re-expressed in chunk-local normalised coordinates, and
 * field values re-expressed in the store's shared value mapping, so the chunk decodes exactly the
 * block fit's field on its voxels (up to the payload's quantisation).
 */
import { polynomialTerms, type BackgroundModel } from "../core/background.js";
import { P_AMP, P_POS, PARAMS_PER_GAUSSIAN } from "../core/constants.js";
import { toNormalized, toVoxel, type Shape3 } from "../core/gaussian.js";

/** Where a chunk sits in the block it was fitted on: per axis z, y, x. */
export interface Frame {
  /** Shape of the fitted block (the chunk's voxels plus the halo that lies inside the volume). */
  block: Shape3;
  /** The chunk's declared shape (edge chunks included: zarr chunks are full-size). */
  chunk: Shape3;
  /** Block voxel index of the chunk's voxel 0. */
  offset: Shape3;
}

/** The field in the chunk's units: F_chunk = shift + gain · F_block (both value mappings affine). */
export interface ValueChange { gain: number; shift: number }

/** u_block = α u_chunk + β per axis, [x, y, z]. */
function affine(f: Frame): { alpha: number[]; beta: number[] } {
  const alpha: number[] = [], beta: number[] = [];
  for (const a of [2, 1, 0]) { // x, y, z
    alpha.push(f.chunk[a]! / f.block[a]!);
    beta.push((f.chunk[a]! + 2 * f.offset[a]!) / f.block[a]! - 1);
  }
  return { alpha, beta };
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** A constant or polynomial background of the block as one of the chunk (grid backgrounds are not re-expressible). */
export function rebaseBackground(bg: BackgroundModel, f: Frame, v: ValueChange): BackgroundModel {
  if (bg.kind === "grid") throw new RangeError("a grid background cannot be moved into a chunk's frame; fit constant or polynomial backgrounds");
  const degree = bg.kind === "polynomial" ? bg.degree : 0;
  const terms = polynomialTerms(degree);
  const index = new Map(terms.map((t, i) => [t.join(), i]));
  const { alpha, beta } = affine(f);
  const out = new Float64Array(terms.length);
  terms.forEach((e, t) => {
    const c = bg.params[t]!;
    if (c === 0) return;
    // Π over axes of (α u + β)^e, expanded by the binomial theorem
    for (let kx = 0; kx <= e[0]; kx++) for (let ky = 0; ky <= e[1]; ky++) for (let kz = 0; kz <= e[2]; kz++) {
      const k = [kx, ky, kz];
      let w = c;
      for (let a = 0; a < 3; a++) w *= binomial(e[a]!, k[a]!) * alpha[a]! ** k[a]! * beta[a]! ** (e[a]! - k[a]!);
      const j = index.get(k.join())!;
      out[j] = out[j]! + w;
    }
  });
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * v.gain;
  out[0] = out[0]! + v.shift;
  return bg.kind === "polynomial" ? { kind: "polynomial", degree, params: out } : { kind: "constant", params: out };
}

/**
 * The Gaussians `keep` selects (by their chunk-frame voxel centre [x, y, z]), with positions
 * normalised to the chunk and amplitudes in the chunk's units.
 */
export function rebaseGaussians(params: Float32Array, count: number, f: Frame, v: ValueChange, keep: (centre: [number, number, number], i: number) => boolean): { gaussians: Float32Array; count: number } {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const b = i * PARAMS_PER_GAUSSIAN;
    const centre = [0, 1, 2].map((a) => toVoxel(params[b + P_POS + a]!, f.block[2 - a]!) - f.offset[2 - a]!) as [number, number, number];
    if (!keep(centre, i)) continue;
    for (let k = 0; k < PARAMS_PER_GAUSSIAN; k++) out.push(params[b + k]!);
    const o = out.length - PARAMS_PER_GAUSSIAN;
    for (let a = 0; a < 3; a++) out[o + P_POS + a] = toNormalized(centre[a]!, f.chunk[2 - a]!);
    out[o + P_AMP] = out[o + P_AMP]! * v.gain;
  }
  return { gaussians: Float32Array.from(out), count: out.length / PARAMS_PER_GAUSSIAN };
}
