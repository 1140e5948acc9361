/**
 * One chunk's bytes under the `volmicro.gaussians` codec (docs/vmg-zarr-codec.md § 3): a version
 * byte, the background kind, its shape and parameters, a varint Gaussian count and the Gaussian
 * payload of the file format (packed: its stream after a compact table, chunk-table.ts), all in chunk-local coordinates, so a chunk decodes knowing only its
 * shape and the codec configuration. Decoding goes through the file format's validation and the
 * CPU decoder, so the bounds and the math are those of a `.vmg` file whose volume is the chunk.
 */
import { backgroundParamCount, MAX_GRID_NODES_PER_AXIS, type BackgroundModel } from "../../core/background.js";
import { fromHalfBits, roundToHalf, toHalfBits } from "../../core/float16.js";
import { PARAMS_PER_GAUSSIAN } from "../../core/constants.js";
import type { DType, VoxelArray } from "../../core/dtype.js";
import type { Shape3 } from "../../core/gaussian.js";
import { fullBox, VmgDecoder } from "../../decode/decoder.js";
import { encodingByName } from "../../format/encodings.js";
import { CountBoundError, CountMismatchError, InvalidHeaderError, TruncatedFileError, UnencodableError, UnsupportedVersionError, VmgFormatError } from "../../format/errors.js";
import { choosePackedSteps, decodePackedStream, encodePackedStream, MIN_BYTES_PER_GAUSSIAN, type PackedSteps } from "../../format/packed.js";
import { validateBackground, validateCount, validateGaussians, type VmgFile } from "../../format/vmg.js";
import { decodeChunkTable, encodeChunkTable } from "./chunk-table.js";
import { GAUSSIAN_CODEC_NAME, GAUSSIAN_CODEC_VERSION, type GaussianCodecConfig } from "./config.js";
import { readVarint, varintBytes, writeVarint } from "./varint.js";

const KINDS = ["constant", "polynomial", "grid"] as const;
/** Kind byte of § 3's float16 grid: a grid (kind 2's shape fields) whose nodes are float16 (a store's continuous background, § 6.2). */
const HALF_GRID_KIND = 3;
/** The codec version that added kind 3 (version 2's chunks are otherwise the same). */
const HALF_GRID_VERSION = 3;
/** Kind byte of § 3's float16 polynomial: kind 1's degree, its coefficients as float16 (a small store's chunks, § 6.2). */
const HALF_POLYNOMIAL_KIND = 4;
/** The codec version that added kind 4. */
const HALF_POLYNOMIAL_VERSION = 4;

const isHalf = (p: number) => Number.isFinite(roundToHalf(p)) && roundToHalf(p) === p;

/**
 * Whether `bg` is written with float16 parameters (kind 3 or 4): a grid or polynomial whose values
 * are all float16 numbers, so the 2 bytes a parameter saves lose nothing.
 */
export function isHalfBackground(bg: BackgroundModel): boolean {
  return (bg.kind === "grid" || bg.kind === "polynomial") && bg.params.every(isHalf);
}

/** The grid background of `nodes` (z, y, x order, x fastest) with `g` nodes per axis, each rounded to float16: what kind 3 stores. */
export function halfGrid(nodes: ArrayLike<number>, g: number): BackgroundModel {
  return { kind: "grid", dims: [g, g, g], params: Float64Array.from({ length: g ** 3 }, (_, i) => roundToHalf(nodes[i]!)) };
}

export interface ChunkContent {
  background: BackgroundModel;
  /** count × 11 parameters (core/constants), positions normalised to the chunk's shape. */
  gaussians: Float32Array;
  count: number;
  /** Packed encoding: the quantisation to use (chosen from the Gaussians when absent). */
  packing?: PackedSteps;
}

/** Bytes before the background parameters: version, kind and the kind's shape fields. */
function headBytes(bg: BackgroundModel): number {
  if (bg.kind === "polynomial") return 3;
  if (bg.kind === "grid") return 2 + bg.dims.reduce((n, g) => n + varintBytes(g), 0);
  return 2;
}

/** Bytes of a chunk around its payload: the fixed fields, the background and the count. */
export function chunkOverheadBytes(bg: BackgroundModel, count: number): number {
  return headBytes(bg) + (isHalfBackground(bg) ? 2 : 4) * bg.params.length + varintBytes(count);
}

/**
 * The chunk's bytes. Validates like the file writer (background, counts, the Gaussians as a
 * reader will decode them, σ within the chunk's diagonal) and throws its typed errors.
 */
export function encodeChunk(c: ChunkContent, chunkShape: Shape3, config: GaussianCodecConfig): Uint8Array {
  // only the version this writes: an older one's chunks (a store of version 2) are only read
  if (config.version !== GAUSSIAN_CODEC_VERSION) throw new UnencodableError(`${GAUSSIAN_CODEC_NAME}: this writer writes codec version ${GAUSSIAN_CODEC_VERSION}, not ${config.version}`);
  validateBackground(c.background);
  if (c.gaussians.length < c.count * PARAMS_PER_GAUSSIAN) throw new CountMismatchError(`${c.count} Gaussians need ${c.count * PARAMS_PER_GAUSSIAN} parameters, found ${c.gaussians.length}`);
  validateCount(c.count, chunkShape);
  const params = c.gaussians.subarray(0, c.count * PARAMS_PER_GAUSSIAN);
  validateGaussians(params, c.count, chunkShape);
  let payload: Uint8Array = new Uint8Array(0);
  if (c.count > 0) {
    payload = encodePayload(params, c.count, chunkShape, config, c.packing);
    validateGaussians(decodePayload(payload, c.count, chunkShape, config).gaussians, c.count, chunkShape);
  }
  const bg = c.background;
  const out = new Uint8Array(chunkOverheadBytes(bg, c.count) + payload.length);
  const view = new DataView(out.buffer);
  out[0] = GAUSSIAN_CODEC_VERSION;
  let o = 2;
  const half = isHalfBackground(bg);
  out[1] = half ? (bg.kind === "grid" ? HALF_GRID_KIND : HALF_POLYNOMIAL_KIND) : KINDS.indexOf(bg.kind);
  if (bg.kind === "polynomial") out[o++] = bg.degree;
  if (bg.kind === "grid") for (const g of bg.dims) o = writeVarint(out, o, g);
  if (half) for (let i = 0; i < bg.params.length; i++, o += 2) view.setUint16(o, toHalfBits(bg.params[i]!), true);
  else for (let i = 0; i < bg.params.length; i++, o += 4) view.setFloat32(o, bg.params[i]!, true);
  o = writeVarint(out, o, c.count);
  out.set(payload, o);
  return out;
}

/** The chunk's content, every field checked (typed errors naming the problem), before any voxel is decoded. */
export function readChunk(bytes: Uint8Array, chunkShape: Shape3, config: GaussianCodecConfig): ChunkContent {
  try {
    return parseChunk(bytes, chunkShape, config);
  } catch (e) {
    if (e instanceof VmgFormatError) e.message = `${GAUSSIAN_CODEC_NAME} chunk ${chunkShape.join("x")}: ${e.message}`;
    throw e;
  }
}

function parseChunk(bytes: Uint8Array, chunkShape: Shape3, config: GaussianCodecConfig): ChunkContent {
  if (bytes.length < 2) throw new TruncatedFileError(`${bytes.length} bytes is shorter than the version and kind bytes`);
  // a chunk is of its array's codec version (a store of the released version 2 is read as such)
  if (bytes[0] !== config.version) throw new UnsupportedVersionError(`chunk version ${bytes[0]} is not supported (its array's codec version is ${config.version})`);
  const halfGrid = bytes[1] === HALF_GRID_KIND, halfPolynomial = bytes[1] === HALF_POLYNOMIAL_KIND, half = halfGrid || halfPolynomial;
  if (halfGrid && config.version < HALF_GRID_VERSION) throw new InvalidHeaderError(`background kind 3 (float16 grid) is not one of codec version ${config.version}'s (0 constant, 1 polynomial, 2 grid)`);
  if (halfPolynomial && config.version < HALF_POLYNOMIAL_VERSION) throw new InvalidHeaderError(`background kind 4 (float16 polynomial) is not one of codec version ${config.version}'s (0 constant, 1 polynomial, 2 grid${config.version >= HALF_GRID_VERSION ? ", 3 float16 grid" : ""})`);
  const kind = halfGrid ? "grid" : halfPolynomial ? "polynomial" : KINDS[bytes[1]!];
  if (!kind) throw new InvalidHeaderError(`background kind ${bytes[1]} is not 0 (constant), 1 (polynomial), 2 (grid), 3 (float16 grid) or 4 (float16 polynomial)`);
  let o = 2;
  let shapeOnly: BackgroundModel;
  if (kind === "polynomial") {
    if (o >= bytes.length) throw new TruncatedFileError("chunk ends before its polynomial degree");
    shapeOnly = { kind, degree: bytes[o++]!, params: new Float64Array(0) };
  } else if (kind === "grid") {
    const dims: number[] = [];
    for (const axis of ["z", "y", "x"]) {
      const r = readVarint(bytes, o, `grid ${axis} node count`);
      if (r.value < 1 || r.value > MAX_GRID_NODES_PER_AXIS) throw new InvalidHeaderError(`grid ${axis} node count ${r.value} is outside 1..${MAX_GRID_NODES_PER_AXIS}`);
      dims.push(r.value);
      o = r.next;
    }
    shapeOnly = { kind, dims: dims as [number, number, number], params: new Float64Array(0) };
  } else {
    shapeOnly = { kind, params: new Float64Array(0) };
  }
  if (kind === "polynomial") validateBackground({ ...shapeOnly, params: new Float64Array(backgroundParamCount(shapeOnly)) }); // the degree, before sizing anything by it
  const P = backgroundParamCount(shapeOnly), size = half ? 2 : 4;
  if (o + size * P > bytes.length) throw new TruncatedFileError(`${half ? `float16 ${kind}` : kind} background needs ${size * P} bytes of parameters, the chunk has ${bytes.length - o} left`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const params = new Float64Array(P);
  for (let i = 0; i < P; i++, o += size) params[i] = half ? fromHalfBits(view.getUint16(o, true)) : view.getFloat32(o, true);
  const background = { ...shapeOnly, params } as BackgroundModel;
  validateBackground(background);
  const n = readVarint(bytes, o, "Gaussian count");
  const count = n.value;
  const payload = bytes.subarray(n.next);
  validateCount(count, chunkShape);
  if (count === 0) {
    if (payload.length) throw new CountMismatchError(`${payload.length} payload bytes follow a count of 0 Gaussians`);
    return { background, gaussians: new Float32Array(0), count: 0 };
  }
  const decoded = decodePayload(payload, count, chunkShape, config);
  validateGaussians(decoded.gaussians, count, chunkShape);
  return { background, gaussians: decoded.gaussians, count, ...(decoded.packing ? { packing: decoded.packing } : {}) };
}

/** The Gaussian payload (§ 3): float16 records as in the file; packed as the chunk's compact table (chunk-table.ts), then the file's range-coded stream. */
function encodePayload(params: Float32Array, count: number, chunkShape: Shape3, config: GaussianCodecConfig, packing: PackedSteps | undefined): Uint8Array {
  if (config.encoding !== "packed") return encodingByName(config.encoding).encode({ gaussians: params, count, shape: chunkShape });
  const steps = packing ?? choosePackedSteps(params, count, chunkShape);
  const table = encodeChunkTable(steps, chunkShape), stream = encodePackedStream(params, count, steps);
  const out = new Uint8Array(table.length + stream.length);
  out.set(table);
  out.set(stream, table.length);
  return out;
}

/** The payload's Gaussians, its length checked against the count before anything is allocated (§ 5). */
function decodePayload(payload: Uint8Array, count: number, chunkShape: Shape3, config: GaussianCodecConfig): { gaussians: Float32Array; packing?: PackedSteps } {
  if (config.encoding !== "packed") {
    const enc = encodingByName(config.encoding);
    const fixed = enc.fixedBytes(count);
    if (fixed !== undefined && fixed !== payload.length) throw new CountMismatchError(`payload holds ${payload.length} bytes but ${count} ${config.encoding} Gaussians need ${fixed}`);
    return { gaussians: enc.decode(payload, count).gaussians };
  }
  const { steps, next } = decodeChunkTable(payload, 0, chunkShape);
  const stream = payload.subarray(next);
  const most = Math.floor(stream.length / MIN_BYTES_PER_GAUSSIAN);
  if (count > most) throw new CountBoundError(count, most, `cannot fit in a packed stream of ${stream.length} bytes`);
  return { gaussians: decodePackedStream(stream, count, steps), packing: steps };
}

/** The chunk as a `.vmg` file whose volume is the chunk: what the CPU (and GPU) decoders take. */
export function chunkAsFile(c: ChunkContent, chunkShape: Shape3, dtype: DType, config: GaussianCodecConfig): VmgFile {
  return {
    header: {
      shape: chunkShape, voxelSize: [1, 1, 1], unit: "", origin: [0, 0, 0], dtype,
      valueOffset: config.valueOffset, valueScale: config.valueScale, truncation: config.truncation, encoding: config.encoding,
    },
    background: c.background, gaussians: c.gaussians, count: c.count, sections: [],
  };
}

/** The chunk's stored values, C order (x fastest), exactly prod(chunkShape) of them; `scratch`: the decoder's field buffer, reused by a caller decoding many chunks. */
export function decodeChunk(bytes: Uint8Array, chunkShape: Shape3, dtype: DType, config: GaussianCodecConfig, scratch?: Float32Array): VoxelArray {
  const content = readChunk(bytes, chunkShape, config);
  return new VmgDecoder(chunkAsFile(content, chunkShape, dtype, config)).decode(fullBox(chunkShape), undefined, undefined, scratch);
}
