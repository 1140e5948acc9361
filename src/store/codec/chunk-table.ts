/**
 * A chunk's packed quantisation table (docs/vmg-zarr-codec.md § 3.1): the steps of the file's
 * packed payload (file § 5.1) in about 21 bytes instead of 45. The position steps follow from the
 * chunk's shape and one exponent (the writer's steps are 2^−e voxel), the scale and amplitude steps
 * are powers of two (exponents), origins are zigzag varints; only the two log-origins stay float32.
 * A chunk pays it once per chunk with Gaussians, so on a store of 64³ chunks it is a few per cent
 * of the bytes at 0.073 bpp.
 */
import type { Shape3 } from "../../core/gaussian.js";
import { InvalidHeaderError, TruncatedFileError, UnencodableError } from "../../format/errors.js";
import { checkPackedSteps, type PackedSteps } from "../../format/packed.js";
import { readVarint, varintBytes, writeVarint } from "./varint.js";

/** Largest position exponent (steps of 2^−10 voxel; the writer uses 2 … 5). */
const MAX_POSITION_EXPONENT = 10;
/** Largest scale or amplitude step exponent (steps of 2^−16 octave; the writer uses 4 and 5). */
const MAX_STEP_EXPONENT = 16;
/** Bytes of a typical table: 2-byte position origins (what the allocation and the fit budget assume). */
export const TYPICAL_TABLE_BYTES = 1 + 3 * 2 + 1 + 1 + 4 + 1 + 1 + 1 + 4 + 1;

/** Position step per axis (x, y, z) of exponent e in a chunk of `shape` (z, y, x): 2/(n·2^e) as float32, as choosePackedSteps computes it. */
function positionSteps(e: number, shape: Shape3): [number, number, number] {
  const q = 2 ** e;
  return [Math.fround(2 / (shape[2] * q)), Math.fround(2 / (shape[1] * q)), Math.fround(2 / (shape[0] * q))];
}

const zigzag = (v: number) => (v >= 0 ? 2 * v : -2 * v - 1);
const unzigzag = (z: number) => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

/** The exponent e of a power-of-two step 2^−e (0 … max), or undefined. */
function stepExponent(step: number, max: number): number | undefined {
  for (let e = 0; e <= max; e++) if (Math.fround(2 ** -e) === step) return e;
  return undefined;
}

/** The table's bytes, or an UnencodableError when the steps are not ones a chunk can state (non-power-of-two steps). */
export function encodeChunkTable(s: PackedSteps, shape: Shape3): Uint8Array {
  let e = 0;
  while (e <= MAX_POSITION_EXPONENT && positionSteps(e, shape).some((x, a) => x !== s.posStep[a])) e++;
  const es = stepExponent(s.scaleStep, MAX_STEP_EXPONENT), ea = stepExponent(s.ampStep, MAX_STEP_EXPONENT);
  if (e > MAX_POSITION_EXPONENT || es === undefined || ea === undefined) {
    throw new UnencodableError("packed steps are not powers of two per voxel and octave: a chunk cannot state them");
  }
  const origins = s.posMin.map(zigzag);
  const out = new Uint8Array(1 + origins.reduce((n, z) => n + varintBytes(z), 0) + 1 + 1 + 4 + 1 + 1 + 1 + 4 + 1);
  const view = new DataView(out.buffer);
  let o = 0;
  out[o++] = e;
  for (const z of origins) o = writeVarint(out, o, z);
  out[o++] = s.cellShift;
  out[o++] = es;
  view.setFloat32(o, s.scaleMin, true); o += 4;
  out[o++] = s.scaleBits;
  out[o++] = s.rotBits;
  out[o++] = ea;
  view.setFloat32(o, s.ampMin, true); o += 4;
  out[o++] = s.ampBits;
  return out;
}

/** The table at `bytes[at]` (checked like the file's packed table) and the offset after it. */
export function decodeChunkTable(bytes: Uint8Array, at: number, shape: Shape3): { steps: PackedSteps; next: number } {
  let o = at;
  const byte = (what: string) => {
    if (o >= bytes.length) throw new TruncatedFileError(`chunk ends inside its packed table (${what})`);
    return bytes[o++]!;
  };
  const f32 = (what: string) => {
    if (o + 4 > bytes.length) throw new TruncatedFileError(`chunk ends inside its packed table (${what})`);
    const v = new DataView(bytes.buffer, bytes.byteOffset + o, 4).getFloat32(0, true);
    o += 4;
    return v;
  };
  const e = byte("position exponent");
  if (e > MAX_POSITION_EXPONENT) throw new InvalidHeaderError(`packed position exponent ${e} is above ${MAX_POSITION_EXPONENT}`);
  const posMin = [0, 0, 0] as [number, number, number];
  for (let a = 0; a < 3; a++) {
    const r = readVarint(bytes, o, "packed position origin");
    posMin[a] = unzigzag(r.value);
    o = r.next;
  }
  const cellShift = byte("cell shift");
  const es = byte("scale step");
  const scaleMin = f32("scale origin");
  const scaleBits = byte("scale bits"), rotBits = byte("rotation bits");
  const ea = byte("amplitude step");
  const ampMin = f32("amplitude origin");
  const ampBits = byte("amplitude bits");
  if (es > MAX_STEP_EXPONENT || ea > MAX_STEP_EXPONENT) throw new InvalidHeaderError(`packed step exponents ${es}, ${ea} exceed ${MAX_STEP_EXPONENT}`);
  const steps: PackedSteps = {
    posStep: positionSteps(e, shape), posMin, cellShift,
    scaleMin, scaleStep: Math.fround(2 ** -es), scaleBits, rotBits, ampMin, ampStep: Math.fround(2 ** -ea), ampBits,
  };
  checkPackedSteps(steps);
  return { steps, next: o };
}
