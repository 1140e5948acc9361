/**
 * The GPU's spatial index: the scale grid cut into cubic bricks, each listing (CSR) the kernels
 * whose support box overlaps it. A voxel's thread reads only its own brick's list. Kernels whose
 * support spans more than `maxBricksPerKernel` bricks go to a global list every voxel reads, and a
 * grid too large for the kernel count (a file may declare a 2³¹-voxel axis) gets larger bricks, as
 * the CPU's SpatialIndex does, so the index stays O(count) in memory whatever the file holds.
 */
import type { Shape3 } from "../core/gaussian.js";
import type { PreparedKernels } from "../decode/kernels.js";

export interface BrickIndex {
  /** Brick edge in voxels of the scale grid. */
  brick: number;
  /** Bricks along x, y, z. */
  dims: [number, number, number];
  /** Kernels every voxel evaluates (stored first in `items`). */
  globalCount: number;
  /** nBricks + 1 offsets into `items` (already past the global list). */
  start: Uint32Array;
  /** Global kernels, then each brick's kernels, ascending kernel index within each list. */
  items: Uint32Array;
}

/** Bricks allowed beyond 64 per kernel: the bricks double until the grid fits. */
const MIN_BRICK_BUDGET = 1 << 18;

export function buildBrickIndex(kernels: PreparedKernels, grid: Shape3, brick = 8, maxBricksPerKernel = 512): BrickIndex {
  const [nz, ny, nx] = grid;
  const budget = Math.max(MIN_BRICK_BUDGET, 64 * kernels.count);
  while (Math.ceil(nx / brick) * Math.ceil(ny / brick) * Math.ceil(nz / brick) > budget) brick *= 2;
  const dims: [number, number, number] = [Math.ceil(nx / brick), Math.ceil(ny / brick), Math.ceil(nz / brick)];
  const nBricks = dims[0] * dims[1] * dims[2];
  const ranges = new Int32Array(kernels.count * 6);
  const isGlobal = new Uint8Array(kernels.count);
  const global: number[] = [];
  const counts = new Uint32Array(nBricks + 1);
  const b = kernels.box;
  for (let i = 0; i < kernels.count; i++) {
    const r = ranges.subarray(i * 6, i * 6 + 6);
    for (let a = 0; a < 3; a++) {
      r[2 * a] = Math.max(0, Math.floor(b[i * 6 + 2 * a]! / brick));
      r[2 * a + 1] = Math.min(dims[a]! - 1, Math.floor(b[i * 6 + 2 * a + 1]! / brick));
    }
    if (r[0]! > r[1]! || r[2]! > r[3]! || r[4]! > r[5]!) { r[0] = 1; r[1] = 0; continue; } // outside the grid
    const span = (r[1]! - r[0]! + 1) * (r[3]! - r[2]! + 1) * (r[5]! - r[4]! + 1);
    if (span > maxBricksPerKernel) { isGlobal[i] = 1; global.push(i); continue; }
    forBricks(r, dims, (c) => { counts[c + 1]!++; });
  }
  counts[0] = global.length;
  for (let c = 0; c < nBricks; c++) counts[c + 1]! += counts[c]!;
  const items = new Uint32Array(counts[nBricks]!);
  items.set(global);
  const fill = counts.slice(0, nBricks);
  for (let i = 0; i < kernels.count; i++) {
    if (isGlobal[i]) continue;
    const r = ranges.subarray(i * 6, i * 6 + 6);
    if (r[0]! > r[1]!) continue;
    forBricks(r, dims, (c) => { items[fill[c]!++] = i; });
  }
  return { brick, dims, globalCount: global.length, start: counts, items };
}

function forBricks(r: Int32Array, dims: [number, number, number], f: (brick: number) => void): void {
  for (let z = r[4]!; z <= r[5]!; z++) for (let y = r[2]!; y <= r[3]!; y++) for (let x = r[0]!; x <= r[1]!; x++) {
    f((z * dims[1] + y) * dims[0] + x);
  }
}
