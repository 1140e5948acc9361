/**
 * The planning pass's statistics of a store's input, gathered block by block in bounded memory
 * (docs/vmg-zarr-codec.md § 6.3): min and max, the 0.1th/99.9th percentiles of the value mapping
 * (an exact histogram for ≤16-bit integers; for 32-bit types the same strided sample of the flat
 * index the in-memory mapping takes, so both give the same mapping), and the input's fingerprint:
 * the CRC-32 of its voxels' bytes taken block by block in the order blocks are added.
 */
import type { Box } from "../core/background.js";
import type { DType, VoxelArray } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import { FitInputError } from "../fit/errors.js";
import { histogramPercentiles, histogramShift, mappingFromStats, percentileStride, samplePercentiles, type ValueMapping } from "../fit/prepare.js";
import { crc32 } from "../format/crc32.js";
import { allocVoxels } from "../core/dtype.js";

export class InputStats {
  min = Infinity;
  max = -Infinity;
  crc32 = 0;
  private nan = false;
  private readonly hist?: Float64Array;
  private readonly shift: number = 0;
  private readonly stride: number;
  private readonly sample?: Float64Array;
  private taken = 0;

  constructor(readonly shape: Shape3, readonly dtype: DType, readonly name: string) {
    const n = shape[0] * shape[1] * shape[2];
    const h = histogramShift(allocVoxels(dtype, 0));
    this.stride = percentileStride(n);
    if (h) { this.hist = new Float64Array(h.bins); this.shift = h.shift; }
    else this.sample = new Float64Array(Math.ceil(n / this.stride));
  }

  /** The voxels of `box` (x fastest); every voxel of the input exactly once over all calls. */
  add(box: Box, data: VoxelArray): void {
    let min = this.min, max = this.max;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v !== v) this.nan = true;
    }
    this.min = min; this.max = max;
    if (this.hist) {
      const hist = this.hist, shift = this.shift;
      for (let i = 0; i < data.length; i++) hist[data[i]! + shift]!++;
    } else this.sampleBox(box, data);
    this.crc32 = crc32(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, this.crc32);
  }

  /** The voxels whose flat index in the whole volume is a multiple of the stride. */
  private sampleBox(box: Box, data: VoxelArray): void {
    const [, ny, nx] = this.shape, s = this.stride, w = box.x1 - box.x0, sample = this.sample!;
    for (let z = box.z0, k = 0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++, k += w) {
      const g = (z * ny + y) * nx + box.x0;
      for (let x = (s - (g % s)) % s; x < w; x += s) sample[this.taken++] = data[k + x]!;
    }
  }

  /** The store's value mapping (as the file's fitter chooses it: fit/prepare.ts robustMapping). */
  mapping(): ValueMapping {
    if (this.nan) throw new FitInputError(this.name, "contains NaN values");
    const n = this.shape[0] * this.shape[1] * this.shape[2];
    const ps = [0.001, 0.999];
    return mappingFromStats(this.min, this.max, () => (this.hist ? histogramPercentiles(this.hist, this.shift, n, ps) : samplePercentiles(this.sample!.subarray(0, this.taken), ps)) as [number, number], this.dtype, this.name);
  }
}
