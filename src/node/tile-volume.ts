/**
 * A larger test volume from real data: `source` repeated `reps` times along z, y, x, written as a
 * plain zarr v3 array a chunk at a time (each chunk read from the source's region under it, so
 * neither the source nor the result is ever held whole), atomically (a temporary folder renamed).
 * For memory and scaling measurements (`scripts/tile-volume.ts`, bench:scale).
 */
import type { Box } from "../core/background.js";
import { allocVoxels } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import type { VolumeSource } from "../io/region.js";
import { writeStoreAtomic } from "./atomic-write.js";
import { ZarrChunkWriter } from "./zarr-chunks.js";

export async function writeTiledZarr(source: VolumeSource, reps: Shape3, out: string, chunk: Shape3 = [64, 128, 128]): Promise<Shape3> {
  const shape = source.shape.map((n, a) => n * reps[a]!) as unknown as Shape3;
  await writeStoreAtomic(out, async (store) => {
    const w = new ZarrChunkWriter((rel, bytes) => store.set(`/${rel}`, bytes) as Promise<void>, shape, source.dtype, chunk);
    const grid = shape.map((n, a) => Math.ceil(n / chunk[a]!));
    for (let cz = 0; cz < grid[0]!; cz++) for (let cy = 0; cy < grid[1]!; cy++) for (let cx = 0; cx < grid[2]!; cx++) {
      const lo = [cz, cy, cx].map((c, a) => c * chunk[a]!), hi = lo.map((x, a) => Math.min(x + chunk[a]!, shape[a]!));
      await w.write([cz, cy, cx], await tiledBox(source, lo, hi));
    }
    await w.finish();
  });
  return shape;
}

/** The box [lo, hi) of the tiled volume: one source read per tile it crosses. */
async function tiledBox(source: VolumeSource, lo: number[], hi: number[]): Promise<Volume> {
  const shape = hi.map((x, a) => x - lo[a]!) as unknown as Shape3;
  const out: Volume = { shape, dtype: source.dtype, data: allocVoxels(source.dtype, shape[0] * shape[1] * shape[2]) };
  // per axis, the runs of the box inside one tile: [start in the box, start in the source, length]
  const runs = lo.map((l, a) => {
    const n = source.shape[a]!, r: Array<[number, number, number]> = [];
    for (let x = l; x < hi[a]!;) { const s = x % n, len = Math.min(n - s, hi[a]! - x); r.push([x - l, s, len]); x += len; }
    return r;
  });
  for (const [oz, sz, lz] of runs[0]!) for (const [oy, sy, ly] of runs[1]!) for (const [ox, sx, lx] of runs[2]!) {
    const box: Box = { z0: sz, z1: sz + lz, y0: sy, y1: sy + ly, x0: sx, x1: sx + lx };
    const part = await source.read(box);
    for (let z = 0; z < lz; z++) for (let y = 0; y < ly; y++) {
      out.data.set(part.data.subarray((z * ly + y) * lx, (z * ly + y + 1) * lx) as never, ((oz + z) * shape[1] + oy + y) * shape[2] + ox);
    }
  }
  return out;
}
