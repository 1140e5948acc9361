/**
 * Gaussian payload encodings: 0, the paper's plain float16 records (22 bytes each: position x y z,
 * scale x y z, quaternion w x y z, amplitude), and 1, the packed encoding (packed.ts, ~9 bytes).
 * Every reader goes through this registry, so every decode path (CPU, WebGPU, viewer) reads both.
 */
import { F16_RECORD_BYTES, PARAMS_PER_GAUSSIAN } from "../core/constants.js";
import { fromHalfBits, toHalfBits } from "../core/float16.js";
import { CountMismatchError, UnsupportedEncodingError } from "./errors.js";
import { choosePackedSteps, decodePacked, encodePacked, maxPackedCount, type PackedSteps } from "./packed.js";

export type EncodingName = "f16" | "packed";

export interface PayloadInput {
  gaussians: Float32Array;
  count: number;
  shape: readonly [number, number, number];
  /** Packed encoding: the quantisation to use (chosen from the data when absent). */
  packing?: PackedSteps;
}

export interface PayloadEncoding {
  name: EncodingName;
  code: number;
  /** Bytes of a payload of `count` Gaussians, when the encoding fixes it (else undefined). */
  fixedBytes(count: number): number | undefined;
  /** Most Gaussians a payload of `bytes` can hold (checked before decoding allocates). */
  maxCount(bytes: number): number;
  encode(input: PayloadInput): Uint8Array;
  /** Decode; must throw a VmgFormatError on malformed input and allocate at most count × 11 floats. */
  decode(bytes: Uint8Array, count: number): { gaussians: Float32Array; packing?: PackedSteps };
}

const f16Records: PayloadEncoding = {
  name: "f16",
  code: 0,
  fixedBytes: (count) => count * F16_RECORD_BYTES,
  maxCount: (bytes) => Math.floor(bytes / F16_RECORD_BYTES),
  encode({ gaussians: params, count }) {
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
    return { gaussians: out };
  },
};

/** Encoding 1: quantised, Morton-ordered, range-coded (packed.ts). */
const packedRecords: PayloadEncoding = {
  name: "packed",
  code: 1,
  fixedBytes: () => undefined,
  maxCount: maxPackedCount,
  encode({ gaussians, count, shape, packing }) {
    return encodePacked(gaussians, count, packing ?? choosePackedSteps(gaussians, count, shape));
  },
  decode(bytes, count) {
    const { params, steps } = decodePacked(bytes, count);
    return { gaussians: params, packing: steps };
  },
};

const ENCODINGS: PayloadEncoding[] = [f16Records, packedRecords];

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
