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
