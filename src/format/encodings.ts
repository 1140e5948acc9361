/**
 * Gaussian payload encodings. Version 1 defines encoding 0, the paper's plain float16 records
 * (22 bytes each: position x y z, scale x y z, quaternion w x y z, amplitude). Other encodings
 * register here with their code; every decoder path goes through `decodePayload`.
 */
import { F16_RECORD_BYTES, PARAMS_PER_GAUSSIAN } from "../core/constants.js";
import { fromHalfBits, toHalfBits } from "../core/float16.js";
import { CountMismatchError, UnsupportedEncodingError } from "./errors.js";

export type EncodingName = "f16";

export interface PayloadEncoding {
  name: EncodingName;
  code: number;
  /** Bytes of a payload of `count` Gaussians, when the encoding fixes it (else undefined). */
  fixedBytes(count: number): number | undefined;
  encode(params: Float32Array, count: number): Uint8Array;
  /** Decode; must throw a VmgFormatError on malformed input and allocate at most count × 11 floats. */
  decode(bytes: Uint8Array, count: number): Float32Array;
}

const f16Records: PayloadEncoding = {
  name: "f16",
  code: 0,
  fixedBytes: (count) => count * F16_RECORD_BYTES,
  encode(params, count) {
    const out = new Uint8Array(count * F16_RECORD_BYTES);
    const view = new DataView(out.buffer);
    const n = count * PARAMS_PER_GAUSSIAN;
    for (let i = 0; i < n; i++) view.setUint16(2 * i, toHalfBits(params[i]!), true);
    return out;
  },
  decode(bytes, count) {
    if (bytes.length !== count * F16_RECORD_BYTES) {
      throw new CountMismatchError(
        `payload holds ${bytes.length} bytes but ${count} float16 Gaussians need ${count * F16_RECORD_BYTES}`,
      );
    }
    const n = count * PARAMS_PER_GAUSSIAN;
    const out = new Float32Array(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = fromHalfBits(view.getUint16(2 * i, true));
    return out;
  },
};

const ENCODINGS: PayloadEncoding[] = [f16Records];

export function encodingByCode(code: number): PayloadEncoding {
  const e = ENCODINGS.find((x) => x.code === code);
  if (!e) throw new UnsupportedEncodingError(`unknown Gaussian encoding ${code}`);
  return e;
}

export function encodingByName(name: string): PayloadEncoding {
  const e = ENCODINGS.find((x) => x.name === name);
  if (!e) throw new UnsupportedEncodingError(`unknown Gaussian encoding "${name}" (known: ${ENCODINGS.map((x) => x.name).join(", ")})`);
  return e;
}
