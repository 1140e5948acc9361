/**
 * The `.vmg` container, version 1 (specified in docs/vmg-format.md): one implementation for Node
 * and the browser, working on bytes only.
 */
import {
  backgroundParamCount, MAX_GRID_NODES_PER_AXIS, MAX_POLYNOMIAL_DEGREE, type BackgroundModel,
} from "../core/background.js";
import {
  DEFAULT_TRUNCATION_SIGMA, MAX_AMPLITUDE, MAX_TRUNCATION_SIGMA, MIN_QUAT_NORM, MIN_SCALE, MIN_TRUNCATION_SIGMA,
  P_AMP, P_ROT, P_SCALE, PARAMS_PER_GAUSSIAN,
} from "../core/constants.js";
import { DTYPES, dtypeFromCode, type DType } from "../core/dtype.js";
import { volumeDiagonal, type Shape3 } from "../core/gaussian.js";
import { crc32 } from "./crc32.js";
import { encodingByCode, encodingByName, type EncodingName, type PayloadEncoding } from "./encodings.js";
import type { PackedSteps } from "./packed.js";
import {
  BadMagicError, ChecksumMismatchError, CountBoundError, CountMismatchError, InvalidHeaderError,
  InvalidParameterError, ParameterBoundError, TruncatedFileError, UnsupportedVersionError, VmgFormatError,
} from "./errors.js";

/** 0x89 'V' 'M' 'G' CR LF SUB LF: a high byte and line endings catch text-mode transfers. */
export const MAGIC = Uint8Array.of(0x89, 0x56, 0x4d, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
export const VERSION_MAJOR = 1;
export const VERSION_MINOR = 1;
/** Version 1.1's header: 1.0's 120 bytes plus the origin (3 × f64 at offset 120). */
export const HEADER_BYTES = 144;
/** Version 1.0's header, still read (its origin is 0). */
const HEADER_BYTES_1_0 = 120;
const ORIGIN_OFFSET = 120;
const SECTION_HEAD_BYTES = 12;
const TRAILER_BYTES = 4;
const UNIT_BYTES = 16;
const MAX_AXIS = 2 ** 31 - 1;

const BACKGROUND_KINDS = ["constant", "polynomial", "grid"] as const;

/** Section flag: a reader that does not know the tag must reject the file. */
export const SECTION_CRITICAL = 1;

export interface VmgSection {
  tag: string; // four ASCII characters
  flags: number;
  data: Uint8Array;
}

export interface VmgHeader {
  /** [z, y, x] in voxels. */
  shape: Shape3;
  /** [z, y, x] physical size of one voxel, in `unit`. */
  voxelSize: [number, number, number];
  unit: string;
  /** [z, y, x] physical position of the centre of voxel (0, 0, 0), in `unit`; 0 when unknown (and in 1.0 files). */
  origin: [number, number, number];
  /** Data type of the source volume and of decoded chunks. */
  dtype: DType;
  /** Stored value = round(clamp(valueOffset + valueScale · field)); field = background + Σ Gaussians. */
  valueOffset: number;
  valueScale: number;
  /** Kernel truncation radius in standard deviations. */
  truncation: number;
  encoding: EncodingName;
}

export interface VmgFile {
  header: VmgHeader;
  background: BackgroundModel;
  /** count × 11 floats, see core/constants (P_POS …). */
  gaussians: Float32Array;
  count: number;
  sections: VmgSection[];
  /** Packed encoding: its quantisation (read from the file; chosen from the data when absent on write). */
  packing?: PackedSteps;
}

export interface VmgLayout {
  version: [number, number];
  bytes: number;
  headerBytes: number;
  backgroundBytes: number;
  payloadBytes: number;
  sectionBytes: number;
}

export function defaultHeader(shape: Shape3, dtype: DType): VmgHeader {
  return {
    shape, voxelSize: [1, 1, 1], unit: "", origin: [0, 0, 0], dtype, valueOffset: 0, valueScale: 1,
    truncation: DEFAULT_TRUNCATION_SIGMA, encoding: "f16",
  };
}

// ---------------------------------------------------------------- validation (shared by reader and writer)

function validateHeader(h: VmgHeader): void {
  h.shape.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1 || n > MAX_AXIS) throw new InvalidHeaderError(`shape[${i}] = ${n} is not a positive 31-bit integer`);
  });
  h.voxelSize.forEach((s, i) => {
    if (!Number.isFinite(s) || s <= 0) throw new InvalidHeaderError(`voxel size[${i}] = ${s} is not a positive finite number`);
  });
  h.origin.forEach((o, i) => {
    if (!Number.isFinite(o)) throw new InvalidHeaderError(`origin[${i}] = ${o} is not a finite number`);
  });
  if (h.unit.length > UNIT_BYTES || !/^[\x20-\x7e]*$/.test(h.unit)) throw new InvalidHeaderError(`unit "${h.unit}" is not printable ASCII of at most ${UNIT_BYTES} characters`);
  if (!(h.truncation >= MIN_TRUNCATION_SIGMA && h.truncation <= MAX_TRUNCATION_SIGMA)) {
    throw new InvalidHeaderError(`truncation radius ${h.truncation} is outside [${MIN_TRUNCATION_SIGMA}, ${MAX_TRUNCATION_SIGMA}] sigma`);
  }
  if (!Number.isFinite(h.valueOffset)) throw new InvalidHeaderError(`value offset ${h.valueOffset} is not finite`);
  if (!Number.isFinite(h.valueScale) || h.valueScale === 0) throw new InvalidHeaderError(`value scale ${h.valueScale} is not a non-zero finite number`);
}

/** Throws unless the model's degree or node counts, parameter count and parameters are valid (§ 3). */
export function validateBackground(b: BackgroundModel): void {
  if (b.kind === "polynomial" && !(Number.isInteger(b.degree) && b.degree >= 0 && b.degree <= MAX_POLYNOMIAL_DEGREE)) {
    throw new InvalidHeaderError(`polynomial background degree ${b.degree} is outside 0..${MAX_POLYNOMIAL_DEGREE}`);
  }
  if (b.kind === "grid" && !b.dims.every((g) => Number.isInteger(g) && g >= 1 && g <= MAX_GRID_NODES_PER_AXIS)) {
    throw new InvalidHeaderError(`grid background dims ${b.dims.join("x")} are outside 1..${MAX_GRID_NODES_PER_AXIS}`);
  }
  const expected = backgroundParamCount(b);
  if (b.params.length !== expected) throw new CountMismatchError(`${b.kind} background needs ${expected} parameters, found ${b.params.length}`);
  for (let i = 0; i < b.params.length; i++) {
    if (!Number.isFinite(b.params[i]!)) throw new InvalidParameterError(`background parameter ${i} is ${b.params[i]}`);
  }
}

const FIELD_NAMES = ["x", "y", "z", "scale x", "scale y", "scale z", "quaternion w", "quaternion x", "quaternion y", "quaternion z", "amplitude"];

/**
 * Throws InvalidParameterError naming the first non-finite Gaussian, or ParameterBoundError naming
 * the first out of bounds: every standard deviation in [MIN_SCALE, the volume diagonal] voxels,
 * |amplitude| ≤ MAX_AMPLITUDE, quaternion norm ≥ MIN_QUAT_NORM.
 */
export function validateGaussians(params: Float32Array, count: number, shape: Shape3): void {
  const maxScale = volumeDiagonal(shape);
  for (let i = 0; i < count; i++) {
    const b = i * PARAMS_PER_GAUSSIAN;
    for (let k = 0; k < PARAMS_PER_GAUSSIAN; k++) {
      if (!Number.isFinite(params[b + k]!)) throw new InvalidParameterError(`Gaussian ${i}: ${FIELD_NAMES[k]} is ${params[b + k]}`);
    }
    for (let k = 0; k < 3; k++) {
      const s = params[b + P_SCALE + k]!, field = FIELD_NAMES[P_SCALE + k]!;
      if (!(s >= MIN_SCALE)) throw new ParameterBoundError(i, field, s, MIN_SCALE, `is degenerate (minimum ${MIN_SCALE} voxels)`);
      if (s > maxScale) throw new ParameterBoundError(i, field, s, maxScale, `voxels exceeds the volume diagonal ${maxScale} (maximum)`);
    }
    const amp = params[b + P_AMP]!;
    if (Math.abs(amp) > MAX_AMPLITUDE) throw new ParameterBoundError(i, "amplitude", amp, MAX_AMPLITUDE, `exceeds ±${MAX_AMPLITUDE} in magnitude`);
    const qn = Math.hypot(params[b + P_ROT]!, params[b + P_ROT + 1]!, params[b + P_ROT + 2]!, params[b + P_ROT + 3]!);
    if (!(qn >= MIN_QUAT_NORM)) throw new ParameterBoundError(i, "quaternion norm", qn, MIN_QUAT_NORM, `is degenerate (minimum ${MIN_QUAT_NORM})`);
  }
}

/** Throws CountBoundError unless `count` Gaussians are at most one per voxel of the grid. */
export function validateCount(count: number, shape: Shape3): void {
  const voxels = shape[0] * shape[1] * shape[2];
  if (count > voxels) throw new CountBoundError(count, voxels, `exceed the ${shape.join("x")} grid's voxels`);
}

function validateSections(sections: VmgSection[]): void {
  for (const s of sections) {
    if (!/^[\x21-\x7e]{4}$/.test(s.tag)) throw new InvalidHeaderError(`section tag "${s.tag}" is not four printable ASCII characters`);
  }
}

// ---------------------------------------------------------------- writing

/** Serialise a file. Parameters are rounded by the payload encoding (float16 for "f16"). */
export function writeVmg(file: VmgFile): Uint8Array {
  const { header: h, background: bg } = file;
  validateHeader(h);
  validateBackground(bg);
  validateSections(file.sections);
  if (file.gaussians.length !== file.count * PARAMS_PER_GAUSSIAN) {
    throw new CountMismatchError(`${file.count} Gaussians need ${file.count * PARAMS_PER_GAUSSIAN} parameters, found ${file.gaussians.length}`);
  }
  validateCount(file.count, h.shape);
  validateGaussians(file.gaussians, file.count, h.shape);
  const enc = encodingByName(h.encoding);
  const payload = enc.encode({ gaussians: file.gaussians, count: file.count, shape: h.shape, ...(file.packing ? { packing: file.packing } : {}) });
  checkPayloadCount(enc, file.count, payload.length);
  // the payload rounds the parameters (float16, or the packed quantisation): what a reader will see must pass too
  validateGaussians(enc.decode(payload, file.count).gaussians, file.count, h.shape);
  return serializeVmg(file, payload);
}

/**
 * The container bytes of `file` around an already encoded Gaussian payload, checked against
 * nothing: `writeVmg` validates first; tests use this alone to build hostile files.
 */
export function serializeVmg(file: VmgFile, payload: Uint8Array): Uint8Array {
  const { header: h, background: bg } = file;
  const enc = encodingByName(h.encoding);
  const bgBytes = bg.params.length * 4;
  const secBytes = file.sections.reduce((n, s) => n + SECTION_HEAD_BYTES + s.data.length, 0);
  const total = HEADER_BYTES + bgBytes + payload.length + secBytes + TRAILER_BYTES;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set(MAGIC, 0);
  v.setUint16(8, VERSION_MAJOR, true);
  v.setUint16(10, VERSION_MINOR, true);
  v.setUint32(12, HEADER_BYTES, true);
  v.setUint32(16, 0, true);
  h.shape.forEach((n, i) => v.setUint32(20 + 4 * i, n, true));
  h.voxelSize.forEach((s, i) => v.setFloat64(32 + 8 * i, s, true));
  for (let i = 0; i < h.unit.length; i++) out[56 + i] = h.unit.charCodeAt(i);
  out[72] = DTYPES[h.dtype].code;
  out[73] = enc.code;
  out[74] = BACKGROUND_KINDS.indexOf(bg.kind);
  out[75] = bg.kind === "polynomial" ? bg.degree : 0;
  if (bg.kind === "grid") bg.dims.forEach((g, i) => v.setUint16(76 + 2 * i, g, true));
  v.setFloat32(84, h.truncation, true);
  v.setFloat64(88, h.valueOffset, true);
  v.setFloat64(96, h.valueScale, true);
  v.setUint32(104, file.count, true);
  v.setUint32(108, bg.params.length, true);
  v.setUint32(112, payload.length, true);
  v.setUint32(116, file.sections.length, true);
  h.origin.forEach((x, i) => v.setFloat64(ORIGIN_OFFSET + 8 * i, x, true));
  let o = HEADER_BYTES;
  for (let i = 0; i < bg.params.length; i++, o += 4) v.setFloat32(o, bg.params[i]!, true);
  out.set(payload, o);
  o += payload.length;
  for (const s of file.sections) {
    for (let i = 0; i < 4; i++) out[o + i] = s.tag.charCodeAt(i);
    v.setUint32(o + 4, s.flags, true);
    v.setUint32(o + 8, s.data.length, true);
    out.set(s.data, o + SECTION_HEAD_BYTES);
    o += SECTION_HEAD_BYTES + s.data.length;
  }
  v.setUint32(o, crc32(out, 0, o), true);
  return out;
}

// ---------------------------------------------------------------- reading

export interface ReadOptions {
  /** Name used in error messages. */
  file?: string;
}

/** Parse and validate a `.vmg` file; throws a VmgFormatError subclass naming the problem. */
export function readVmg(bytes: Uint8Array, options: ReadOptions = {}): VmgFile {
  return readVmgWithLayout(bytes, options).file;
}

/** `readVmg` and the file's byte layout from the one parse (the payload's decode is most of a small file's start). */
export function readVmgWithLayout(bytes: Uint8Array, options: ReadOptions = {}): { file: VmgFile; layout: VmgLayout } {
  try {
    return parse(bytes);
  } catch (e) {
    if (e instanceof VmgFormatError && options.file) throw e.withFile(options.file);
    throw e;
  }
}

/** Byte layout of a valid file (for `vmg info`). */
export function vmgLayout(bytes: Uint8Array): VmgLayout {
  return parse(bytes).layout;
}

function parse(bytes: Uint8Array): { file: VmgFile; layout: VmgLayout } {
  const len = bytes.length;
  for (let i = 0; i < Math.min(len, MAGIC.length); i++) {
    if (bytes[i] !== MAGIC[i]) throw new BadMagicError("not a .vmg file (wrong magic bytes)");
  }
  if (len < 16) throw new TruncatedFileError(`truncated: ${len} bytes, shorter than the fixed header`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = v.getUint16(8, true);
  const minor = v.getUint16(10, true);
  if (major !== VERSION_MAJOR) throw new UnsupportedVersionError(`format version ${major}.${minor} is not supported (this reader reads ${VERSION_MAJOR}.x)`);
  const headerBytes = v.getUint32(12, true);
  const minHeader = minor === 0 ? HEADER_BYTES_1_0 : HEADER_BYTES;
  if (headerBytes < minHeader) throw new InvalidHeaderError(`header length ${headerBytes} is shorter than version 1.${minor}'s ${minHeader} bytes`);
  if (len < minHeader) throw new TruncatedFileError(`truncated: ${len} bytes, shorter than the ${minHeader}-byte header`);
  const count = v.getUint32(104, true);
  const bgCount = v.getUint32(108, true);
  const payloadBytes = v.getUint32(112, true);
  const sectionCount = v.getUint32(116, true);
  // Everything declared must fit in the file before anything is allocated or checksummed.
  const minimum = headerBytes + 4 * bgCount + payloadBytes + SECTION_HEAD_BYTES * sectionCount + TRAILER_BYTES;
  if (minimum > len) {
    throw new TruncatedFileError(`truncated: header declares at least ${minimum} bytes (${count} Gaussians, ${sectionCount} sections) but the file has ${len}`);
  }
  const stored = v.getUint32(len - TRAILER_BYTES, true);
  const actual = crc32(bytes, 0, len - TRAILER_BYTES);
  if (stored !== actual) throw new ChecksumMismatchError(`checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupt`);
  if (v.getUint32(16, true) !== 0) throw new UnsupportedVersionError(`header flags ${hex(v.getUint32(16, true))} name features this reader does not know`);

  const dtypeCode = bytes[72]!;
  const dtype = dtypeFromCode(dtypeCode);
  if (!dtype) throw new InvalidHeaderError(`unknown dtype code ${dtypeCode}`);
  const enc = encodingByCode(bytes[73]!);
  const kindCode = bytes[74]!;
  const kind = BACKGROUND_KINDS[kindCode];
  if (!kind) throw new InvalidHeaderError(`unknown background kind ${kindCode}`);
  let unit = "";
  for (let i = 56; i < 56 + UNIT_BYTES && bytes[i] !== 0; i++) unit += String.fromCharCode(bytes[i]!);
  const header: VmgHeader = {
    shape: [v.getUint32(20, true), v.getUint32(24, true), v.getUint32(28, true)],
    voxelSize: [v.getFloat64(32, true), v.getFloat64(40, true), v.getFloat64(48, true)],
    unit,
    origin: minor === 0 ? [0, 0, 0] : [0, 1, 2].map((i) => v.getFloat64(ORIGIN_OFFSET + 8 * i, true)) as [number, number, number],
    dtype,
    valueOffset: v.getFloat64(88, true),
    valueScale: v.getFloat64(96, true),
    truncation: v.getFloat32(84, true),
    encoding: enc.name,
  };
  validateHeader(header);

  const expectedPayload = enc.fixedBytes(count);
  if (expectedPayload !== undefined && expectedPayload !== payloadBytes) {
    throw new CountMismatchError(`${count} Gaussians need ${expectedPayload} payload bytes but the header declares ${payloadBytes}`);
  }
  checkPayloadCount(enc, count, payloadBytes);
  validateCount(count, header.shape);
  let o = headerBytes;
  const params = new Float64Array(bgCount);
  for (let i = 0; i < bgCount; i++, o += 4) params[i] = v.getFloat32(o, true);
  const dims: [number, number, number] = [v.getUint16(76, true), v.getUint16(78, true), v.getUint16(80, true)];
  const background: BackgroundModel =
    kind === "constant" ? { kind, params }
    : kind === "polynomial" ? { kind, degree: bytes[75]!, params }
    : { kind, dims, params };
  validateBackground(background);

  const { gaussians, packing } = enc.decode(bytes.subarray(o, o + payloadBytes), count);
  o += payloadBytes;
  validateGaussians(gaussians, count, header.shape);

  const sections: VmgSection[] = [];
  for (let s = 0; s < sectionCount; s++) {
    if (o + SECTION_HEAD_BYTES > len - TRAILER_BYTES) throw new TruncatedFileError(`truncated: section ${s} of ${sectionCount} starts past the end`);
    const tag = String.fromCharCode(bytes[o]!, bytes[o + 1]!, bytes[o + 2]!, bytes[o + 3]!);
    const flags = v.getUint32(o + 4, true);
    const size = v.getUint32(o + 8, true);
    if (o + SECTION_HEAD_BYTES + size > len - TRAILER_BYTES) throw new TruncatedFileError(`truncated: section "${tag}" declares ${size} bytes, past the end of the file`);
    if (flags & SECTION_CRITICAL && !KNOWN_SECTIONS.has(tag)) throw new UnsupportedVersionError(`critical section "${tag}" is not known to this reader`);
    sections.push({ tag, flags, data: bytes.slice(o + SECTION_HEAD_BYTES, o + SECTION_HEAD_BYTES + size) });
    o += SECTION_HEAD_BYTES + size;
  }
  if (o !== len - TRAILER_BYTES) throw new CountMismatchError(`${len - TRAILER_BYTES - o} unexplained bytes after the last section`);
  validateSections(sections);
  return {
    file: { header, background, gaussians, count, sections, ...(packing ? { packing } : {}) },
    layout: {
      version: [major, minor], bytes: len, headerBytes, backgroundBytes: 4 * bgCount, payloadBytes,
      sectionBytes: len - TRAILER_BYTES - headerBytes - 4 * bgCount - payloadBytes,
    },
  };
}

function checkPayloadCount(enc: PayloadEncoding, count: number, payloadBytes: number): void {
  const limit = enc.maxCount(payloadBytes);
  if (count > limit) throw new CountBoundError(count, limit, `cannot fit in a ${enc.name} payload of ${payloadBytes} bytes`);
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

// ---------------------------------------------------------------- metadata section

export const META_TAG = "META";
const KNOWN_SECTIONS = new Set([META_TAG]);

/** The JSON metadata section (source, fit settings, metrics), or {} when absent or unreadable. */
export function getMetadata(file: VmgFile): Record<string, unknown> {
  const s = file.sections.find((x) => x.tag === META_TAG);
  if (!s) return {};
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(s.data));
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function setMetadata(file: VmgFile, meta: Record<string, unknown>): void {
  const data = new TextEncoder().encode(JSON.stringify(meta));
  file.sections = file.sections.filter((x) => x.tag !== META_TAG);
  file.sections.push({ tag: META_TAG, flags: 0, data });
}

/** Bits per voxel of a file of `bytes` over the full grid of `shape`. */
export function bitsPerVoxel(bytes: number, shape: Shape3): number {
  return (bytes * 8) / (shape[0] * shape[1] * shape[2]);
}
