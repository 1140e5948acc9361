/**
 * Typed errors for reading and writing volumes. Each carries the source (file path or URL) and the
 * problem separately, and its message reads `<source>: <problem>`, so a CLI can print it as is and
 * a caller can branch on the class.
 */
export class VolumeReadError extends Error {
  readonly source: string;
  readonly problem: string;
  constructor(source: string, problem: string, options?: { cause?: unknown }) {
    super(`${source}: ${problem}`, options);
    this.name = new.target.name;
    this.source = source;
    this.problem = problem;
  }
}

/** A voxel type VolMicro cannot represent (see `DType`), e.g. float64, int64, bool, RGB bytes. */
export class UnsupportedDTypeError extends VolumeReadError {
  readonly dtype: string;
  constructor(source: string, dtype: string, detail?: string) {
    super(source, `unsupported voxel type ${dtype}${detail ? ` (${detail})` : ""}`);
    this.dtype = dtype;
  }
}

/** The source is readable but does not hold a single-channel 3D (or 2D) grid: empty, 1D, multichannel, time series, … */
export class NotAVolumeError extends VolumeReadError {}

/** A zarr chunk that the array's metadata implies is absent from the store. */
export class MissingChunkError extends VolumeReadError {
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
export class UnsupportedFormatError extends VolumeReadError {}

/** Writing a volume failed or was refused (unsupported dtype for the format, target in the way, …). */
export class VolumeWriteError extends Error {
  readonly target: string;
  readonly problem: string;
  constructor(target: string, problem: string, options?: { cause?: unknown }) {
    super(`${target}: ${problem}`, options);
    this.name = new.target.name;
    this.target = target;
    this.problem = problem;
  }
}
