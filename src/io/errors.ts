/**
 * Typed errors for reading and writing volumes. Each carries the source (file path or URL) and the
 * problem separately, and its message reads `<source>: <problem>`, so a CLI can print it as is and
 * a caller can branch on the tag (core/errors.ts).
 */
import { registerErrorClasses, VmgError } from "../core/errors.js";

export class VolumeReadError extends VmgError {
  static override readonly tag: string = "io/read";
  readonly source: string;
  readonly problem: string;
  constructor(source: string, problem: string, options?: { cause?: unknown }) {
    super(`${source}: ${problem}`, options);
    this.source = source;
    this.problem = problem;
  }
}

/** A voxel type VolMicro cannot represent (see `DType`), e.g. float64, int64, bool, RGB bytes. */
export class UnsupportedDTypeError extends VolumeReadError {
  static override readonly tag: string = "io/unsupported-dtype";
  readonly dtype: string;
  constructor(source: string, dtype: string, detail?: string) {
    super(source, `unsupported voxel type ${dtype}${detail ? ` (${detail})` : ""}`);
    this.dtype = dtype;
  }
}

/** The source is readable but does not hold a single-channel 3D (or 2D) grid: empty, 1D, multichannel, time series, … */
export class NotAVolumeError extends VolumeReadError {
  static override readonly tag: string = "io/not-a-volume";
}

/** A zarr chunk that the array's metadata implies is absent from the store. */
export class MissingChunkError extends VolumeReadError {
  static override readonly tag: string = "io/missing-chunk";
  readonly chunkKey: string;
  constructor(source: string, chunkKey: string) {
    super(
      source,
      `missing zarr chunk ${chunkKey} (the store is incomplete; pass allowMissingChunks to read absent chunks as the fill value)`,
    );
    this.chunkKey = chunkKey;
  }
}

/** Not a format (or a variant of one) that we read: not a TIFF, RGB/palette TIFF, unknown zarr layout, … */
export class UnsupportedFormatError extends VolumeReadError {
  static override readonly tag: string = "io/unsupported-format";
}

/**
 * Fetching a source over the network failed: `status` is the HTTP status of a refused request,
 * absent when no response came (unreachable server, CORS refusal; `cause` holds the browser's error).
 */
export class VolumeFetchError extends VolumeReadError {
  static override readonly tag: string = "io/fetch";
  readonly status: number | undefined;
  constructor(source: string, problem: string, options?: { status?: number; cause?: unknown }) {
    super(source, problem, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
  }
}

/** Writing a volume failed or was refused (unsupported dtype for the format, target in the way, …). */
export class VolumeWriteError extends VmgError {
  static override readonly tag: string = "io/write";
  readonly target: string;
  readonly problem: string;
  constructor(target: string, problem: string, options?: { cause?: unknown }) {
    super(`${target}: ${problem}`, options);
    this.target = target;
    this.problem = problem;
  }
}

registerErrorClasses(
  VolumeReadError, UnsupportedDTypeError, NotAVolumeError, MissingChunkError, UnsupportedFormatError, VolumeFetchError,
  VolumeWriteError,
);
