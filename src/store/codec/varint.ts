/**
 * Unsigned LEB128 varints of at most 32 bits (docs/vmg-zarr-codec.md § 3): 7 bits per byte, least
 * significant group first, bit 7 set on every byte but the last.
 */
import { InvalidHeaderError, TruncatedFileError } from "../../format/errors.js";

export const MAX_VARINT_BYTES = 5;

export function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) { v = Math.floor(v / 128); n++; }
  return n;
}

/** Writes `v` (an integer in 0 … 2³² − 1) at `out[at]`; returns the offset after it. */
export function writeVarint(out: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    out[at++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}

/** The varint at `bytes[at]` and the offset after it; `what` names the field in errors. */
export function readVarint(bytes: Uint8Array, at: number, what: string): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (at + i >= bytes.length) throw new TruncatedFileError(`chunk ends inside its ${what} varint`);
    const b = bytes[at + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80)) {
      if (value > 0xffffffff) throw new InvalidHeaderError(`chunk ${what} ${value} exceeds 2^32 - 1`);
      if (i > 0 && b === 0) throw new InvalidHeaderError(`chunk ${what} varint is not minimal`);
      return { value, next: at + i + 1 };
    }
  }
  throw new InvalidHeaderError(`chunk ${what} varint runs past ${MAX_VARINT_BYTES} bytes`);
}
