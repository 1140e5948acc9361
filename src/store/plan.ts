/**
 * The chunked store's layout (docs/vmg-zarr-codec.md § 6): an OME-Zarr 0.5 multiscale image over
 * zarr v3, each level an array whose shards (`sharding_indexed`) hold chunks coded by the Gaussian
 * codec; 2× mean downsampling between levels; byte allocation across chunks.
 */
import type { Box } from "../core/background.js";
import { allocVoxels } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import { configToJson, GAUSSIAN_CODEC_NAME, type GaussianCodecConfig } from "./codec/config.js";
import { shardingCodec, shardIndexBytes } from "./shard.js";

/**
 * A block's halo by default: none. Measured on trailmap 303³ and DIADEM at 0.073 bpp (codec doc § 6.2),
 * a halo's voxels cost more of a chunk's few bytes than the seams they hide.
 */
export const DEFAULT_HALO = 0;

/**
 * Fitter steps of a full chunk's block by default (the CLI's `--iterations` for a store). A block's
 * PSNR gains little past the first hundred steps (trailmap 64³ blocks at 0.073 bpp: 100 steps
 * 0.05–0.19 dB below 200, 140 steps 0.01–0.09 dB) while its cost grows with each. The trailmap
 * 303³ store, with edge chunks' extra steps (`blockSteps`): 49.18 dB at 120 steps, 49.24 at 160,
 * against 49.32 for the file of level 0's bytes (600 steps); 160 is the fewest within 0.1 dB of it,
 * and fits in 297 CPU-s, 154 s on 2 cores (0.094 MVox per CPU-s; at 200 steps without the fit
 * loop's savings, 370 CPU-s). Small sparse volumes lose more (DIADEM 92×77×86: 38.09 dB at 120,
 * 38.33 at 200, 38.79 at 600, before the edge chunks' steps), so a small store's blocks get up to
 * the file's steps (block-fit.ts smallStoreSteps).
 */
export const DEFAULT_STORE_ITERATIONS = 160;

export interface LevelPlan {
  path: string;
  shape: Shape3;
  /** Chunks per axis [z, y, x], chunks per shard per axis, shards per axis. */
  chunkGrid: Shape3;
  perShard: Shape3;
  shardGrid: Shape3;
  voxelSize: [number, number, number];
  origin: [number, number, number];
}

/** A volume at half the resolution: each voxel the mean of (up to) 2×2×2 (rounded for integer types). */
export function downsample2(v: Volume): Volume {
  const [nz, ny, nx] = v.shape;
  const g = halfGeometry(v), shape = g.shape;
  const out = allocVoxels(v.dtype, shape[0] * shape[1] * shape[2]);
  const integer = v.dtype !== "float32";
  let o = 0;
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++, o++) {
    let s = 0, n = 0;
    for (let dz = 0; dz < 2 && 2 * z + dz < nz; dz++) for (let dy = 0; dy < 2 && 2 * y + dy < ny; dy++) for (let dx = 0; dx < 2 && 2 * x + dx < nx; dx++) {
      s += v.data[((2 * z + dz) * ny + 2 * y + dy) * nx + 2 * x + dx]!; n++;
    }
    out[o] = integer ? Math.round(s / n) : s / n;
  }
  return { ...g, dtype: v.dtype, data: out };
}

/** A level's shape and calibration (what planning needs of it, without its voxels). */
export type LevelGeometry = Pick<Volume, "shape" | "voxelSize" | "origin" | "unit">;

/** The geometry of `downsample2(v)`. */
export function halfGeometry(v: LevelGeometry): LevelGeometry & { shape: Shape3 } {
  const [nz, ny, nx] = v.shape;
  const vs = v.voxelSize ?? [1, 1, 1], org = v.origin ?? [0, 0, 0];
  // a coarse voxel's centre lies between its two fine voxels: half a fine voxel past the first's
  const res: LevelGeometry = {
    shape: [Math.ceil(nz / 2), Math.ceil(ny / 2), Math.ceil(nx / 2)],
    voxelSize: [vs[0] * 2, vs[1] * 2, vs[2] * 2], origin: [org[0] + vs[0] / 2, org[1] + vs[1] / 2, org[2] + vs[2] / 2],
  };
  if (v.unit) res.unit = v.unit;
  return res;
}

/** Levels until every axis fits in one chunk (at most `max`). */
export function levelCount(shape: Shape3, chunk: number, max = 8): number {
  let n = 1, s = [...shape];
  while (n < max && s.some((v) => v > chunk)) { s = s.map((v) => Math.ceil(v / 2)); n++; }
  return n;
}

export function planLevel(i: number, v: LevelGeometry, chunk: number, shard: number): LevelPlan {
  const chunkGrid = v.shape.map((n) => Math.ceil(n / chunk)) as unknown as Shape3;
  // no larger than the level needs: a small level's shard index stays small
  const perShard = chunkGrid.map((c) => Math.min(shard / chunk, c)) as unknown as Shape3;
  const shardGrid = chunkGrid.map((c, a) => Math.ceil(c / perShard[a]!)) as unknown as Shape3;
  return { path: String(i), shape: v.shape, chunkGrid, perShard, shardGrid, voxelSize: [...(v.voxelSize ?? [1, 1, 1])], origin: [...(v.origin ?? [0, 0, 0])] };
}

export function chunkBox(l: Pick<LevelPlan, "shape">, c: Shape3, chunk: number): Box {
  const lo = c.map((k) => k * chunk), hi = lo.map((x, a) => Math.min(x + chunk, l.shape[a]!));
  return { z0: lo[0]!, z1: hi[0]!, y0: lo[1]!, y1: hi[1]!, x0: lo[2]!, x1: hi[2]! };
}

/** Compact JSON: metadata bytes count against the store's budget. */
function json(o: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(o));
}

/**
 * zarr.json of the root group: OME-Zarr 0.5 multiscales with one dataset per level, its `name` and
 * `type` (the downsampling, "mean"), both SHOULD fields. No `metadata`: OME-Zarr's is about the
 * downsampling method, and the codec it used to name is in every level's zarr.json.
 */
export function groupMetadata(levels: LevelPlan[], unit: string | undefined, name: string): Uint8Array {
  const axes = ["z", "y", "x"].map((n) => (unit ? { name: n, type: "space", unit } : { name: n, type: "space" }));
  // a translation of zero is the default (OME-Zarr: it is optional), and bytes here are bytes the Gaussians do not get
  const datasets = levels.map((l) => ({
    path: l.path,
    coordinateTransformations: [{ type: "scale", scale: [...l.voxelSize] }, ...(l.origin.some((t) => t !== 0) ? [{ type: "translation", translation: [...l.origin] }] : [])],
  }));
  return json({
    zarr_format: 3, node_type: "group",
    attributes: { ome: { version: "0.5", multiscales: [{ name, axes, datasets, type: "mean" }] } },
  });
}

/**
 * zarr.json of a level's array: shards of `perShard` chunks per axis, each `chunk`³ voxels coded by
 * the Gaussian codec. Optional fields at their defaults are left out (the chunk key separator "/",
 * the shard index at the end, empty attributes): on a small volume a level's zarr.json is a tenth
 * of the bytes its Gaussians get.
 */
export function arrayMetadata(l: LevelPlan, dtype: string, chunk: number, config: GaussianCodecConfig, fill: number): Uint8Array {
  return json({
    zarr_format: 3, node_type: "array", shape: [...l.shape], data_type: dtype,
    chunk_grid: { name: "regular", configuration: { chunk_shape: l.perShard.map((p) => p * chunk) } },
    chunk_key_encoding: { name: "default" },
    fill_value: fill,
    codecs: [shardingCodec([chunk, chunk, chunk], { name: GAUSSIAN_CODEC_NAME, configuration: configToJson(config) })],
    dimension_names: ["z", "y", "x"],
  });
}

/** Bytes every shard index of a level may take (each shard that has a chunk). */
export function levelIndexBytes(l: LevelPlan): number {
  return l.shardGrid[0] * l.shardGrid[1] * l.shardGrid[2] * shardIndexBytes(l.perShard[0] * l.perShard[1] * l.perShard[2]);
}

/**
 * Byte caps of chunks with weights `w` (0: empty, which get `emptyBytes`) sharing `total`: each
 * structured chunk gets `min`, and what remains in proportion to its weight.
 */
export function allocate(weights: number[], total: number, min: number, emptyBytes: number): number[] {
  const structured = weights.filter((w) => w > 0).length;
  const left = total - emptyBytes * (weights.length - structured);
  // too little for every minimum: equal shares of what there is
  const floor = Math.max(emptyBytes, Math.min(min, Math.floor(left / Math.max(1, structured))));
  const free = Math.max(0, left - floor * structured);
  const sum = weights.reduce((s, w) => s + w, 0);
  return weights.map((w) => (w > 0 ? floor + Math.floor((free * w) / sum) : emptyBytes));
}
