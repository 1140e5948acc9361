/**
 * Typed errors for `.vmg` files. Each names the file (when known) and the problem, so callers can
 * print `vmg: <file>: <problem>` or branch on the class.
 */
export class VmgFormatError extends Error {
  file: string | undefined;
  constructor(message: string, file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = new.target.name;
    this.file = file;
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
export class TruncatedFileError extends VmgFormatError {}
export class BadMagicError extends VmgFormatError {}
export class UnsupportedVersionError extends VmgFormatError {}
export class ChecksumMismatchError extends VmgFormatError {}
export class CountMismatchError extends VmgFormatError {}
/** A header field outside its valid range (shape, voxel size, dtype, radius, …). */
export class InvalidHeaderError extends VmgFormatError {}
/** A Gaussian or background parameter that is NaN, infinite or degenerate. */
export class InvalidParameterError extends VmgFormatError {}
export class UnsupportedEncodingError extends VmgFormatError {}

/**
 * A Gaussian parameter outside the bounds a reader enforces (docs/vmg-format.md, Validation):
 * `gaussian` is its index in the payload, `field` the parameter ("scale x", "amplitude", …),
 * `value` what the file holds and `limit` the bound it breaks.
 */
export class ParameterBoundError extends InvalidParameterError {
  constructor(readonly gaussian: number, readonly field: string, readonly value: number, readonly limit: number, problem: string) {
    super(`Gaussian ${gaussian}: ${field} = ${value} ${problem}`);
  }
}

/** A Gaussian count beyond what the voxel grid or the payload length justifies (`count` > `limit`). */
export class CountBoundError extends CountMismatchError {
  constructor(readonly count: number, readonly limit: number, problem: string) {
    super(`${count} Gaussians ${problem} (at most ${limit})`);
  }
}

/** The packed payload's range decoder needed bytes past the end of its `streamBytes`-byte stream. */
export class StreamOverrunError extends TruncatedFileError {
  constructor(message: string, readonly streamBytes: number) {
    super(message);
  }
}

/**
 * A zarr codec configuration of the Gaussian chunk codec (docs/vmg-zarr-codec.md § 2) that this
 * reader cannot use: a missing or out-of-range field, an unknown key, an unsupported data type.
 */
export class CodecConfigurationError extends InvalidHeaderError {}
