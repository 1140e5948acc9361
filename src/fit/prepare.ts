/**
 * Turning a source volume into a fitting target: robust value mapping, the occupancy gate
 * (TOPS-Gate) and the edge mask.
 */
import { MAX_AMPLITUDE } from "../core/constants.js";
import { DTYPES, type VoxelArray } from "../core/dtype.js";
import type { Volume } from "../core/volume.js";
import { FitInputError, NothingToFitError } from "./errors.js";

export interface ValueMapping {
  /** stored = offset + scale · field */
  offset: number;
  scale: number;
  /** Data range of the source (max − min), the PSNR peak. */
  min: number;
  max: number;
}

/** Percentile (0..1) of a volume: exact via a histogram for ≤16-bit integers, else a strided sample. */
export function percentiles(data: VoxelArray, ps: number[]): number[] {
  const n = data.length;
  const h = histogramShift(data);
  if (h) {
    const hist = new Float64Array(h.bins);
    for (let i = 0; i < n; i++) hist[data[i]! + h.shift]!++;
    return histogramPercentiles(hist, h.shift, n, ps);
  }
  const stride = percentileStride(n);
  const sample = new Float64Array(Math.ceil(n / stride));
  for (let i = 0, j = 0; i < n; i += stride) sample[j++] = data[i]!;
  return samplePercentiles(sample, ps);
}

/** The exact histogram's size and the shift that makes its values indices, for ≤16-bit integer data. */
export function histogramShift(data: VoxelArray): { bins: number; shift: number } | undefined {
  if (data instanceof Uint8Array || data instanceof Int8Array) return { bins: 256, shift: data instanceof Int8Array ? 128 : 0 };
  if (data instanceof Uint16Array || data instanceof Int16Array) return { bins: 65536, shift: data instanceof Int16Array ? 32768 : 0 };
  return undefined;
}

/** Percentiles of `n` values counted in `hist` (value v at index v + shift). */
export function histogramPercentiles(hist: Float64Array, shift: number, n: number, ps: number[]): number[] {
  return ps.map((p) => {
    const target = p * (n - 1);
    let acc = 0;
    for (let v = 0; v < hist.length; v++) {
      acc += hist[v]!;
      if (acc > target) return v - shift;
    }
    return hist.length - 1 - shift;
  });
}

/** Every how many voxels (flat index, x fastest) the sample of other types takes one: at most ~2 M samples. */
export function percentileStride(n: number): number {
  return Math.max(1, Math.floor(n / 2_000_000));
}

/** Percentiles of a sample (sorted in place). */
export function samplePercentiles(sample: Float64Array, ps: number[]): number[] {
  sample.sort();
  return ps.map((p) => sample[Math.min(sample.length - 1, Math.floor(p * (sample.length - 1)))]!);
}

/** Largest |field value| the value mapping produces. */
export const MAX_FIELD_VALUE = MAX_AMPLITUDE / 4;

/**
 * Field units: 0 at the 0.1th percentile, 1 at the 99.9th. Plain min–max would let a few hot pixels
 * squash the structure (on the 16-bit volumes here almost nothing lies above 0.5 of min–max).
 */
export function robustMapping(volume: Volume, source: string): ValueMapping {
  const { data } = volume;
  const [min, max] = valueRange(data, source);
  return mappingFromStats(min, max, () => percentiles(data, [0.001, 0.999]) as [number, number], volume.dtype, source);
}

/**
 * [min, max] of `data`; NaN is bad input. A loop of its own: compiled on the fly (OSR) inside
 * robustMapping, it deoptimised at the code after it on every fit.
 */
function valueRange(data: Volume["data"], source: string): [number, number] {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (Number.isNaN(v)) throw new FitInputError(source, "contains NaN values");
  }
  return [min, max];
}

/**
 * The mapping from a volume's min, max and its 0.1th and 99.9th percentiles (asked for only once
 * the range is known to be finite and not constant), however they were gathered.
 */
export function mappingFromStats(min: number, max: number, range: () => [number, number], dtype: Volume["dtype"], source: string): ValueMapping {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new FitInputError(source, "contains infinite values");
  if (max === min) throw new NothingToFitError(source, `is constant (every voxel is ${min}): nothing to fit`);
  const [lo, hi] = range();
  const offset = lo;
  let scale = hi - lo;
  if (!(scale > 0)) scale = max - min; // sparse data: the 99.9th percentile may still be background
  if (!DTYPES[dtype].integer && !(scale > 0)) scale = 1;
  // hot pixels far above the percentiles would need amplitudes past the format's bound: no field
  // value beyond ±MAX_FIELD_VALUE (a quarter of MAX_AMPLITUDE leaves room for overlapping Gaussians)
  scale = Math.max(scale, (max - offset) / MAX_FIELD_VALUE, (offset - min) / MAX_FIELD_VALUE);
  return { offset, scale, min, max };
}

export function normalise(volume: Volume, m: ValueMapping): Float32Array {
  const out = new Float32Array(volume.data.length);
  const inv = 1 / m.scale;
  for (let i = 0; i < out.length; i++) out[i] = (volume.data[i]! - m.offset) * inv;
  return out;
}

/** TOPS-Gate: voxels whose normalised intensity exceeds τ. */
export function occupancyGate(target: Float32Array, tau: number): Uint8Array {
  const gate = new Uint8Array(target.length);
  for (let i = 0; i < target.length; i++) gate[i] = target[i]! > tau ? 1 : 0;
  return gate;
}

/**
 * Edge mask: voxels whose central-difference gradient magnitude is in the top 5 % and at least
 * 0.05 field units per voxel (so flat or pure-noise volumes get few edges).
 */
export function edgeMask(target: Float32Array, shape: readonly [number, number, number]): Uint8Array {
  const [nz, ny, nx] = shape;
  const mag = new Float32Array(target.length);
  const at = (z: number, y: number, x: number) => target[(z * ny + y) * nx + x]!;
  for (let z = 0, o = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, o++) {
    const gx = (at(z, y, Math.min(nx - 1, x + 1)) - at(z, y, Math.max(0, x - 1))) / 2;
    const gy = (at(z, Math.min(ny - 1, y + 1), x) - at(z, Math.max(0, y - 1), x)) / 2;
    const gz = (at(Math.min(nz - 1, z + 1), y, x) - at(Math.max(0, z - 1), y, x)) / 2;
    mag[o] = Math.sqrt(gx * gx + gy * gy + gz * gz);
  }
  const [p95] = percentiles(mag, [0.95]) as [number];
  const threshold = Math.max(0.05, p95);
  const edges = new Uint8Array(target.length);
  for (let i = 0; i < mag.length; i++) edges[i] = mag[i]! > threshold ? 1 : 0;
  return edges;
}
