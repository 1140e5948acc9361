/**
 * The work list of one slab of the moments pass (shaders/moments.wgsl): each kernel's support box
 * clipped to the slab, cut into pieces of at most `pieceVoxels` consecutive voxels (x fastest), one
 * workgroup each, so the work of a workgroup is bounded however large a Gaussian grows. Kernels
 * missing the slab get no piece. Pieces are listed kernel by kernel, so `first` (CSR offsets) says
 * which partials the reduce step adds for each kernel.
 */
import type { Box } from "../core/background.js";

export interface MomentPieces {
  pieces: number;
  /** Per piece: kernel index, first voxel (linear, in the clipped box). */
  work: Uint32Array;
  /** count + 1 offsets: kernel k owns pieces first[k] .. first[k + 1]. */
  first: Uint32Array;
}

/** Voxels of one piece by default: 64 per invocation of a 64-wide workgroup. */
export const PIECE_VOXELS = 4096;

/** `boxes`: count × 6 inclusive support boxes (x0 x1 y0 y1 z0 z1), as `prepareKernels` gives them. */
export function momentPieces(boxes: Int32Array, count: number, slab: Box, pieceVoxels = PIECE_VOXELS): MomentPieces {
  if (!(Number.isInteger(pieceVoxels) && pieceVoxels >= 1)) throw new RangeError(`pieceVoxels must be a positive integer, not ${pieceVoxels}`);
  const voxels = new Float64Array(count);
  const first = new Uint32Array(count + 1);
  for (let k = 0; k < count; k++) {
    const b = k * 6;
    const sx = Math.min(boxes[b + 1]! + 1, slab.x1) - Math.max(boxes[b]!, slab.x0);
    const sy = Math.min(boxes[b + 3]! + 1, slab.y1) - Math.max(boxes[b + 2]!, slab.y0);
    const sz = Math.min(boxes[b + 5]! + 1, slab.z1) - Math.max(boxes[b + 4]!, slab.z0);
    voxels[k] = sx > 0 && sy > 0 && sz > 0 ? sx * sy * sz : 0;
    first[k + 1] = first[k]! + Math.ceil(voxels[k]! / pieceVoxels);
  }
  const pieces = first[count]!;
  const work = new Uint32Array(Math.max(2, pieces * 2)); // at least one entry: WebGPU rejects empty bindings
  for (let k = 0; k < count; k++) {
    for (let p = first[k]!, v = 0; p < first[k + 1]!; p++, v += pieceVoxels) {
      work[2 * p] = k;
      work[2 * p + 1] = v;
    }
  }
  return { pieces, work, first };
}
