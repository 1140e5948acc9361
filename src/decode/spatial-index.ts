/**
 * A uniform grid over a scale's voxel grid: each cell lists the kernels whose support box
 * overlaps it (CSR layout). A chunk decode visits only the cells it overlaps. Kernels whose
 * support spans very many cells (huge Gaussians, or hostile files) go to a global list that every
 * query includes, and a grid too large for the kernel count (a file may declare a 2³¹-voxel axis)
 * gets larger cells, so the index stays O(count) in memory.
 */
import type { Box } from "../core/background.js";
import type { PreparedKernels } from "./kernels.js";

const MAX_CELLS_PER_KERNEL = 64;
/** Cells allowed beyond 8 per kernel: the grid coarsens (cells double) until it fits. */
const MIN_CELL_BUDGET = 1 << 15;

export class SpatialIndex {
  readonly cell: number;
  readonly dims: [number, number, number]; // cells along x, y, z
  private readonly start: Uint32Array;
  private readonly items: Uint32Array;
  private readonly global: Uint32Array;
  private readonly stamp: Uint32Array;
  /** The kernels' inclusive support boxes (PreparedKernels.box), to drop a cell's kernels that miss the queried box. */
  private readonly boxes: Int32Array;
  private generation = 0;

  constructor(kernels: PreparedKernels, gridShape: readonly [number, number, number], cell = 32) {
    const [nz, ny, nx] = gridShape;
    const cellBudget = Math.max(MIN_CELL_BUDGET, 8 * kernels.count);
    while (Math.ceil(nx / cell) * Math.ceil(ny / cell) * Math.ceil(nz / cell) > cellBudget) cell *= 2;
    this.cell = cell;
    const dims: [number, number, number] = [Math.ceil(nx / cell), Math.ceil(ny / cell), Math.ceil(nz / cell)];
    this.dims = dims;
    const nCells = dims[0] * dims[1] * dims[2];
    const counts = new Uint32Array(nCells + 1);
    const globalList: number[] = [];
    // each kernel's inclusive cell range x0 x1 y0 y1 z0 z1 (x0 > x1: in no cell), then two CSR passes
    const ranges = new Int32Array(kernels.count * 6);
    for (let i = 0; i < kernels.count; i++) {
      const r = i * 6;
      if (!this.cellRange(kernels.box, i, dims, ranges, r)) { ranges[r] = 1; ranges[r + 1] = 0; continue; } // entirely outside
      const span = (ranges[r + 1]! - ranges[r]! + 1) * (ranges[r + 3]! - ranges[r + 2]! + 1) * (ranges[r + 5]! - ranges[r + 4]! + 1);
      if (span > MAX_CELLS_PER_KERNEL) { globalList.push(i); ranges[r] = 1; ranges[r + 1] = 0; continue; }
      for (let z = ranges[r + 4]!; z <= ranges[r + 5]!; z++) for (let y = ranges[r + 2]!; y <= ranges[r + 3]!; y++) {
        for (let x = ranges[r]!, c = (z * dims[1] + y) * dims[0] + x; x <= ranges[r + 1]!; x++, c++) counts[c + 1]!++;
      }
    }
    for (let c = 0; c < nCells; c++) counts[c + 1]! += counts[c]!;
    const items = new Uint32Array(counts[nCells]!);
    const fill = counts.slice(0, nCells);
    for (let i = 0; i < kernels.count; i++) {
      const r = i * 6;
      for (let z = ranges[r + 4]!; z <= ranges[r + 5]!; z++) for (let y = ranges[r + 2]!; y <= ranges[r + 3]!; y++) {
        for (let x = ranges[r]!, c = (z * dims[1] + y) * dims[0] + x; x <= ranges[r + 1]!; x++, c++) items[fill[c]!++] = i;
      }
    }
    this.start = counts;
    this.items = items;
    this.global = Uint32Array.from(globalList);
    this.stamp = new Uint32Array(kernels.count);
    this.boxes = kernels.box;
  }

  /**
   * Kernels whose support box, grown by one voxel, overlaps `box` (scale grid voxels, half-open),
   * each once. The cells' lists alone hold many that miss a thin box (a 4-slice tile meets cells
   * 32 deep) and would each be set up for nothing; the voxel of margin keeps every kernel whose
   * rows reach the box (the row solve's bounds may differ from the box's in the last bit), so a
   * voxel's sum does not depend on the box it is decoded in.
   */
  query(box: Box): Uint32Array {
    const [dx, dy, dz] = this.dims;
    const c = this.cell;
    const x0 = Math.max(0, Math.floor(box.x0 / c)), x1 = Math.min(dx - 1, Math.floor((box.x1 - 1) / c));
    const y0 = Math.max(0, Math.floor(box.y0 / c)), y1 = Math.min(dy - 1, Math.floor((box.y1 - 1) / c));
    const z0 = Math.max(0, Math.floor(box.z0 / c)), z1 = Math.min(dz - 1, Math.floor((box.z1 - 1) / c));
    if (++this.generation === 0xffffffff) { this.stamp.fill(0); this.generation = 1; }
    const g = this.generation;
    const out: number[] = [];
    const b = this.boxes, bx0 = box.x0 - 1, bx1 = box.x1, by0 = box.y0 - 1, by1 = box.y1, bz0 = box.z0 - 1, bz1 = box.z1;
    const meets = (i: number) => {
      const o = i * 6;
      return b[o + 1]! >= bx0 && b[o]! <= bx1 && b[o + 3]! >= by0 && b[o + 2]! <= by1 && b[o + 5]! >= bz0 && b[o + 4]! <= bz1;
    };
    for (const i of this.global) if (meets(i)) { this.stamp[i] = g; out.push(i); }
    for (let z = z0; z <= z1; z++) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
      const cidx = (z * dy + y) * dx + x;
      for (let p = this.start[cidx]!, e = this.start[cidx + 1]!; p < e; p++) {
        const i = this.items[p]!;
        if (this.stamp[i] !== g) { this.stamp[i] = g; if (meets(i)) out.push(i); }
      }
    }
    const result = Uint32Array.from(out);
    return result.sort(); // ascending: summation order, hence rounding, is independent of the query box
  }

  /** Bytes of the index's arrays. */
  get bytes(): number {
    return this.start.byteLength + this.items.byteLength + this.global.byteLength + this.stamp.byteLength;
  }

  /** Kernel i's clipped cell range into `out` at `o` (x0 x1 y0 y1 z0 z1); false when it is empty. */
  private cellRange(box: Int32Array, i: number, dims: [number, number, number], out: Int32Array, o: number): boolean {
    const c = this.cell;
    const b = i * 6;
    out[o] = Math.max(0, Math.floor(box[b]! / c)); out[o + 1] = Math.min(dims[0] - 1, Math.floor(box[b + 1]! / c));
    out[o + 2] = Math.max(0, Math.floor(box[b + 2]! / c)); out[o + 3] = Math.min(dims[1] - 1, Math.floor(box[b + 3]! / c));
    out[o + 4] = Math.max(0, Math.floor(box[b + 4]! / c)); out[o + 5] = Math.min(dims[2] - 1, Math.floor(box[b + 5]! / c));
    return out[o]! <= out[o + 1]! && out[o + 2]! <= out[o + 3]! && out[o + 4]! <= out[o + 5]!;
  }
}
