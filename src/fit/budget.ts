/** How many Gaussians a budget buys: the written file never exceeds it. */
import { F16_RECORD_BYTES } from "../core/constants.js";
import { HEADER_BYTES } from "../format/vmg.js";
import { FitInputError, NothingToFitError } from "./errors.js";

export interface Budget {
  /** Bits per voxel over the full grid. */
  bpp?: number;
  /** Gaussian count. */
  gaussians?: number;
  /** File size in bytes. */
  bytes?: number;
}

/** Bytes outside the Gaussian records: header, background parameters, sections (12-byte heads), checksum. */
export function overheadBytes(backgroundParams: number, sectionBytes: number[]): number {
  return HEADER_BYTES + 4 * backgroundParams + sectionBytes.reduce((s, b) => s + 12 + b, 0) + 4;
}

/** Byte cap of a budget (Infinity when only a Gaussian count is given). */
export function byteCap(b: Budget, voxels: number): number {
  if (b.bytes !== undefined) return Math.floor(b.bytes);
  if (b.bpp !== undefined) return Math.floor((b.bpp * voxels) / 8);
  return Infinity;
}

export function maxGaussians(b: Budget, voxels: number, overhead: number, source: string, bytesPerGaussian = F16_RECORD_BYTES): number {
  const cap = byteCap(b, voxels);
  let n = b.gaussians ?? Infinity;
  if (Number.isFinite(cap)) n = Math.min(n, Math.floor((cap - overhead) / bytesPerGaussian));
  if (!Number.isFinite(n)) throw new FitInputError(source, "no budget given (--bpp, --gaussians or --size)");
  if (n < 1) throw new NothingToFitError(source, `a budget of ${cap} bytes holds no Gaussian: the header, background and metadata alone take ${overhead} bytes`);
  return n;
}
