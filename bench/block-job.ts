/**
 * Chunk jobs cut from a real volume as the store writer cuts them (a chunk plus its halo, the
 * volume's value mapping, a byte cap at a bitrate), for the benchmarks that time fitChunk directly.
 */
import { allocVoxels } from "../src/core/dtype.js";
import type { Shape3 } from "../src/core/gaussian.js";
import type { Volume } from "../src/core/volume.js";
import { installedFitKernel } from "../src/fit/objective.js";
import { robustMapping } from "../src/fit/prepare.js";
import type { ChunkJob } from "../src/store/block-fit.js";
import { GAUSSIAN_CODEC_VERSION } from "../src/store/codec/config.js";

export interface BlockSettings {
  chunk: number;
  halo: number;
  bpp: number;
  iterations: number;
  gate?: number;
  seed?: number;
}

/** The job of the chunk whose first voxel is `at` ([z, y, x]; the chunk is clipped to the volume). */
export function blockJobAt(v: Volume, at: Shape3, s: BlockSettings, mapping = robustMapping(v, "volume")): ChunkJob {
  const lo = at.map((c, a) => Math.max(0, c - s.halo));
  const end = at.map((c, a) => Math.min(v.shape[a]!, c + s.chunk));
  const hi = end.map((c, a) => Math.min(v.shape[a]!, c + s.halo));
  const shape = hi.map((c, a) => c - lo[a]!) as unknown as Shape3;
  const data = allocVoxels(v.dtype, shape[0] * shape[1] * shape[2]);
  const [, ny, nx] = v.shape;
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) {
    const from = ((lo[0]! + z) * ny + lo[1]! + y) * nx + lo[2]!;
    data.set(v.data.subarray(from, from + shape[2]) as never, (z * shape[1] + y) * shape[2]);
  }
  const valid = end.map((c, a) => c - at[a]!) as unknown as Shape3;
  return {
    block: { shape, dtype: v.dtype, data }, offset: at.map((c, a) => c - lo[a]!) as unknown as Shape3, valid,
    chunk: [s.chunk, s.chunk, s.chunk], bytes: Math.floor((s.bpp * s.chunk ** 3) / 8), gate: s.gate ?? 0.5,
    config: { version: GAUSSIAN_CODEC_VERSION, encoding: "packed", truncation: 3, valueOffset: mapping.offset, valueScale: mapping.scale },
    fill: 0, iterations: s.iterations, storeVoxels: v.shape[0] * v.shape[1] * v.shape[2], seed: s.seed ?? 1, background: "poly1", kernel: installedFitKernel(),
  };
}

/** First voxel of every chunk of a volume, z-major. */
export function chunkOrigins(shape: Shape3, chunk: number): Shape3[] {
  const out: Shape3[] = [];
  for (let z = 0; z < shape[0]; z += chunk) for (let y = 0; y < shape[1]; y += chunk) for (let x = 0; x < shape[2]; x += chunk) out.push([z, y, x]);
  return out;
}
