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

/** A zarr chunk absent from the store, refused because the read was strict (`--strict`). */
export class MissingChunkError extends VolumeReadError {
  static override readonly tag: string = "io/missing-chunk";
  readonly chunkKey: string;
  constructor(source: string, chunkKey: string) {
    super(source, `missing zarr chunk ${chunkKey} (refused by --strict; without it absent chunks read as the fill value)`);
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

/** A known format using one feature we do not read (a TIFF compression, a layout); `feature` names it. */
export class UnsupportedFeatureError extends UnsupportedFormatError {
  static override readonly tag: string = "io/unsupported-format/feature";
  readonly feature: string;
  constructor(source: string, feature: string, detail: string) {
    super(source, `${feature} is not supported${detail ? ` (${detail})` : ""}`);
    this.feature = feature;
  }
}

/** A remote source that answered with an HTTP error status (`status`) for `url`. */
export class HttpStatusError extends VolumeFetchError {
  static override readonly tag: string = "io/fetch/http-status";
  declare readonly status: number;
  readonly url: string;
  constructor(source: string, url: string, status: number, statusText: string) {
    super(source, `HTTP ${status}${statusText ? ` ${statusText}` : ""} for ${url}`, { status });
    this.url = url;
  }
}

/** A remote source that could not be reached; `code` is the system error (ECONNREFUSED, ENOTFOUND, …). */
export class ConnectionError extends VolumeFetchError {
  static override readonly tag: string = "io/fetch/connection";
  readonly code: string | undefined;
  readonly url: string;
  constructor(source: string, url: string, cause: unknown) {
    const c = networkCause(cause);
    super(source, `cannot connect for ${url} (${c.text})`, { cause });
    this.code = c.code;
    this.url = url;
  }
}

/** The innermost system error of a failed `fetch` (undici wraps it as `cause`, sometimes twice). */
function networkCause(e: unknown): { code: string | undefined; text: string } {
  let cur: unknown = e;
  for (let i = 0; i < 4; i++) {
    const next = (cur as { cause?: unknown } | undefined)?.cause;
    if (next === undefined || next === null) break;
    cur = next;
  }
  const code = (cur as { code?: unknown }).code;
  const msg = cur instanceof Error ? cur.message : String(cur);
  const c = typeof code === "string" ? code : undefined;
  return { code: c, text: c && !msg.includes(c) ? `${c}: ${msg}` : msg };
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
  UnsupportedFeatureError, HttpStatusError, ConnectionError, VolumeWriteError,
);
