/**
 * A store's levels block by block (docs/vmg-zarr-codec.md § 6.3): every chunk of level k + 1 is
 * the 2× mean downsampling of the region of level k under it (its 2×2×2 chunks, clipped), so the
 * whole pyramid is made from level 0's chunks, depth first, holding at most one such region per
 * level (about 9 chunks' voxels per level) whatever the volume's size. The region starts at even
 * coordinates, so its downsampling is exactly the whole level's `downsample2` there.
 */
import type { Box } from "../core/background.js";
import { allocVoxels } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import { boxShape } from "../io/region.js";
import { chunkBox, downsample2, type LevelPlan } from "./plan.js";

/** Called once for every chunk of every level with its voxels (the chunk clipped to its level), finer levels first. */
export type ChunkVisitor = (level: number, chunk: Shape3, data: Volume) => Promise<void>;

/** One chunk of one level and its voxels. */
export interface PyramidChunk { level: number; chunk: Shape3; data: Volume }

/** Visits every chunk of `levels`, reading level 0's chunks with `read` and downsampling the rest. */
export async function walkPyramid(read: (box: Box) => Promise<Volume>, levels: LevelPlan[], chunk: number, visit: ChunkVisitor): Promise<void> {
  for await (const c of pyramidChunks(read, levels, chunk)) await visit(c.level, c.chunk, c.data);
}

/**
 * Every chunk of `levels` in walkPyramid's order, one at a time as the caller asks (so a consumer
 * that hands chunks to other threads pulls them at its own pace). A chunk's voxels are the
 * walk's own: a consumer that keeps or transfers them past its next request takes a copy, or, as
 * the planning pass does while it writes a chunk to the scratch, only reads them (the walk never
 * changes voxels it has yielded; a coarser chunk is computed from them into a volume of its own).
 */
export async function* pyramidChunks(read: (box: Box) => Promise<Volume>, levels: LevelPlan[], chunk: number): AsyncGenerator<PyramidChunk, void, undefined> {
  async function* node(l: number, c: Shape3): AsyncGenerator<PyramidChunk, Volume, undefined> {
    const box = chunkBox(levels[l]!, c, chunk);
    let v: Volume;
    if (l === 0) v = await read(box);
    else {
      const fine = levels[l - 1]!;
      const region: Box = {
        z0: 2 * box.z0, z1: Math.min(2 * box.z1, fine.shape[0]), y0: 2 * box.y0, y1: Math.min(2 * box.y1, fine.shape[1]),
        x0: 2 * box.x0, x1: Math.min(2 * box.x1, fine.shape[2]),
      };
      const shape = boxShape(region);
      let data: Volume | undefined;
      for (let dz = 0; dz < 2; dz++) for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
        const cc: Shape3 = [2 * c[0] + dz, 2 * c[1] + dy, 2 * c[2] + dx];
        if (cc.some((k, a) => k >= fine.chunkGrid[a]!)) continue;
        const child = yield* node(l - 1, cc);
        data ??= { shape, dtype: child.dtype, data: allocVoxels(child.dtype, shape[0] * shape[1] * shape[2]) };
        paste(data, child, chunkBox(fine, cc, chunk), region);
      }
      v = downsample2(data!);
      v = { shape: v.shape, dtype: v.dtype, data: v.data };
    }
    yield { level: l, chunk: c, data: v };
    return v;
  }
  const top = levels.length - 1, g = levels[top]!.chunkGrid;
  for (let z = 0; z < g[0]; z++) for (let y = 0; y < g[1]; y++) for (let x = 0; x < g[2]; x++) yield* node(top, [z, y, x]);
}

/** Copies `part` (the voxels of box `at`) into `into` (the voxels of box `region`). */
function paste(into: Volume, part: Volume, at: Box, region: Box): void {
  const [, ny, nx] = into.shape, [pz, py, px] = part.shape;
  for (let z = 0; z < pz; z++) for (let y = 0; y < py; y++) {
    const d = ((at.z0 - region.z0 + z) * ny + at.y0 - region.y0 + y) * nx + at.x0 - region.x0;
    into.data.set(part.data.subarray((z * py + y) * px, (z * py + y + 1) * px) as never, d);
  }
}

