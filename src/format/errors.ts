/**
 * Typed errors for `.vmg` files. Each names the file (when known) and the problem, so callers can
 * print `vmg: <file>: <problem>` or branch on the tag (core/errors.ts).
 */
import { registerErrorClasses, VmgError } from "../core/errors.js";

export class VmgFormatError extends VmgError {
  static override readonly tag: string = "format";
  file: string | undefined;
  /** The message without the file name. */
  problem: string;
  constructor(message: string, file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.file = file;
    this.problem = message;
  }
  /** The same error, now naming the file it came from. */
  withFile(file: string): VmgFormatError {
    if (this.file) return this;
    const e = Object.create(Object.getPrototypeOf(this)) as VmgFormatError;
    Object.assign(e, this);
    e.file = file;
    e.message = `${file}: ${this.message}`;
    e.stack = this.stack;
    return e;
  }
}
export class TruncatedFileError extends VmgFormatError {
  static override readonly tag: string = "format/truncated";
}
export class BadMagicError extends VmgFormatError {
  static override readonly tag: string = "format/bad-magic";
}
export class UnsupportedVersionError extends VmgFormatError {
  static override readonly tag: string = "format/unsupported-version";
}
export class ChecksumMismatchError extends VmgFormatError {
  static override readonly tag: string = "format/checksum-mismatch";
}
export class CountMismatchError extends VmgFormatError {
  static override readonly tag: string = "format/count-mismatch";
}
/** A header field outside its valid range (shape, voxel size, dtype, radius, …). */
export class InvalidHeaderError extends VmgFormatError {
  static override readonly tag: string = "format/invalid-header";
}
/** A Gaussian or background parameter that is NaN, infinite or degenerate. */
export class InvalidParameterError extends VmgFormatError {
  static override readonly tag: string = "format/invalid-parameter";
}
export class UnsupportedEncodingError extends VmgFormatError {
  static override readonly tag: string = "format/unsupported-encoding";
}

/**
 * A writer given values its format cannot state (e.g. packed steps a store chunk's table has no
 * code for): the writer's fault or its caller's, never a file's — so not a VmgFormatError, which
 * says a file read is bad.
 */
export class UnencodableError extends VmgError {
  static override readonly tag: string = "format/unencodable";
  constructor(readonly problem: string) {
    super(problem);
  }
}

registerErrorClasses(
  UnencodableError, VmgFormatError, TruncatedFileError, BadMagicError, UnsupportedVersionError, ChecksumMismatchError,
  CountMismatchError, InvalidHeaderError, InvalidParameterError, UnsupportedEncodingError,
);
/**
 * A Gaussian parameter outside the bounds a reader enforces (docs/vmg-format.md, Validation):
 * `gaussian` is its index in the payload, `field` the parameter ("scale x", "amplitude", …),
 * `value` what the file holds and `limit` the bound it breaks.
 */
export class ParameterBoundError extends InvalidParameterError {
  static override readonly tag: string = "format/parameter-bound";
  constructor(readonly gaussian: number, readonly field: string, readonly value: number, readonly limit: number, problem: string) {
    super(`Gaussian ${gaussian}: ${field} = ${value} ${problem}`);
  }
}

/** A Gaussian count beyond what the voxel grid or the payload length justifies (`count` > `limit`). */
export class CountBoundError extends CountMismatchError {
  static override readonly tag: string = "format/count-bound";
  constructor(readonly count: number, readonly limit: number, problem: string) {
    super(`${count} Gaussians ${problem} (at most ${limit})`);
  }
}

/** The packed payload's range decoder needed bytes past the end of its `streamBytes`-byte stream. */
export class StreamOverrunError extends TruncatedFileError {
  static override readonly tag: string = "format/stream-overrun";
  constructor(message: string, readonly streamBytes: number) {
    super(message);
  }
}

/**
 * A zarr codec configuration of the Gaussian chunk codec (docs/vmg-zarr-codec.md § 2) that this
 * reader cannot use: a missing or out-of-range field, an unknown key, an unsupported data type.
 */
export class CodecConfigurationError extends InvalidHeaderError {
  static override readonly tag: string = "format/codec-configuration";
}

registerErrorClasses(ParameterBoundError, CountBoundError, StreamOverrunError, CodecConfigurationError);
