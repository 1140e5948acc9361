/**
 * Encoding 1, "packed": the same Gaussians in ~9 bytes each instead of 22.
 *
 *  - positions quantised on a grid of `posStep` (normalised units per axis, ~1/8 voxel), Gaussians
 *    ordered along a Morton curve of grid cells, each coded as the gap to the previous cell
 *    (adaptive Elias-gamma) plus its offset inside the cell;
 *  - scales as log2 in steps of `scaleStep` octaves;
 *  - rotations as smallest-three quaternions (index of the dropped component, three components in
 *    [-1/√2, 1/√2] on `rotBits` bits);
 *  - amplitudes as sign + log2 magnitude in steps of `ampStep` octaves;
 *  - every field through its own adaptive model of the range coder (range-coder.ts).
 *
 * The steps are chosen from the data (`choosePackedSteps`) and stored at the start of the payload.
 * `quantizePacked` applies exactly the rounding that encode → decode applies, so the fitter can see
 * the decoded parameters before writing them.
 */
import { P_AMP, P_POS, P_ROT, P_SCALE, PARAMS_PER_GAUSSIAN } from "../core/constants.js";
import type { Shape3 } from "../core/gaussian.js";
import { CountBoundError, CountMismatchError, InvalidHeaderError, InvalidParameterError } from "./errors.js";
import { GammaModel, IntModel, RangeDecoder, RangeEncoder } from "./range-coder.js";

export interface PackedSteps {
  posStep: [number, number, number]; // x, y, z, normalised units
  posMin: [number, number, number]; // smallest quantised coordinate per axis
  cellShift: number; // a cell spans 2^cellShift quantised steps per axis
  scaleMin: number; // log2 of the smallest scale
  scaleStep: number; // octaves
  scaleBits: number;
  rotBits: number;
  ampMin: number; // log2 of the smallest |amplitude|
  ampStep: number; // octaves
  ampBits: number;
}

const LAYOUT = 1;
const HEAD_BYTES = 1 + 12 + 12 + 1 + 4 + 4 + 1 + 1 + 4 + 4 + 1;
/** Bytes of the payload's own header (the quantisation table). */
export const PACKED_HEADER_BYTES = HEAD_BYTES;
const MAX_CELL_BITS = 10; // per axis: Morton codes of 30 bits
const MAX_CELL_SHIFT = 20; // cells of up to 2^20 steps: positions span at most 2^30 steps per axis
const SQRT1_2 = Math.SQRT1_2;
/**
 * A packed payload holds at most one Gaussian per this many bytes of coded stream (after the
 * quantisation table). Real fits take 8–10 bytes per Gaussian (7.98 on bench:decode's synthetic
 * neuron, 8.7–10.1 on the rate–distortion fits up to 0.33 bpp): 2 leaves a 4× margin, while the
 * coder itself could squeeze ~20 identical Gaussians into a byte, and every one of them costs
 * decode work.
 */
export const MIN_BYTES_PER_GAUSSIAN = 2;

/** Most Gaussians a packed payload of `bytes` bytes may declare. */
export function maxPackedCount(bytes: number): number {
  return Math.floor(Math.max(0, bytes - HEAD_BYTES) / MIN_BYTES_PER_GAUSSIAN);
}

/**
 * Resolutions from the data: positions in steps of about 1/12 of the typical smallest standard
 * deviation (a power of two per voxel, 1/4 … 1/32 voxel), 1/16 octave of scale, 8-bit rotation
 * components, 1/32 octave of amplitude. Measured: ≤ 0.05 dB below float16 at a fixed Gaussian set.
 */
export function choosePackedSteps(params: ArrayLike<number>, count: number, shape: Shape3, o: { stepsPerVoxel?: number; scaleStep?: number; rotBits?: number; ampStep?: number } = {}): PackedSteps {
  const [nz, ny, nx] = shape;
  const q = o.stepsPerVoxel ?? positionResolution(params, count);
  // float fields are rounded to float32 here, as the payload stores them, so that the encoder,
  // `quantizePacked` and the decoder all use identical steps
  const f = Math.fround;
  const posStep: [number, number, number] = [f(2 / (nx * q)), f(2 / (ny * q)), f(2 / (nz * q))];
  const posMin: [number, number, number] = [Infinity, Infinity, Infinity];
  const posMax = [-Infinity, -Infinity, -Infinity];
  let sMin = Infinity, sMax = -Infinity, aMin = Infinity, aMax = -Infinity;
  for (let i = 0; i < count; i++) {
    const b = i * PARAMS_PER_GAUSSIAN;
    for (let a = 0; a < 3; a++) {
      const p = Math.round(params[b + P_POS + a]! / posStep[a]!);
      posMin[a] = Math.min(posMin[a]!, p);
      posMax[a] = Math.max(posMax[a]!, p);
      const ls = Math.log2(params[b + P_SCALE + a]!);
      sMin = Math.min(sMin, ls); sMax = Math.max(sMax, ls);
    }
    const la = Math.log2(Math.max(Math.abs(params[b + P_AMP]!), 2 ** -30));
    aMin = Math.min(aMin, la); aMax = Math.max(aMax, la);
  }
  if (count === 0) { posMin.fill(0); posMax.fill(0); sMin = sMax = 0; aMin = aMax = 0; }
  // a margin of two voxels, so Gaussians that move a little after the steps are chosen still fit
  for (let a = 0; a < 3; a++) { posMin[a] = posMin[a]! - 2 * q; posMax[a] = posMax[a]! + 2 * q; }
  const span = Math.max(...posMax.map((m, a) => m - posMin[a]! + 1));
  // about one Gaussian per occupied cell: the gaps stay small, the offsets carry the precision
  const volume = posMax.reduce((v, m, a) => v * (m - posMin[a]! + 1), 1);
  let cellShift = Math.min(MAX_CELL_SHIFT, Math.max(0, Math.round(Math.log2(Math.cbrt(volume / Math.max(1, count))))));
  while (Math.ceil(span / 2 ** cellShift) > 2 ** MAX_CELL_BITS) cellShift++;
  const scaleStep = f(o.scaleStep ?? 1 / 16), ampStep = f(o.ampStep ?? 1 / 32);
  return {
    posStep, posMin, cellShift,
    scaleMin: f(sMin), scaleStep, scaleBits: bitsFor((sMax - f(sMin)) / scaleStep),
    rotBits: o.rotBits ?? 8,
    ampMin: f(aMin), ampStep, ampBits: bitsFor((aMax - f(aMin)) / ampStep),
  };
}

/** Steps per voxel: 12 per typical (25th percentile) smallest standard deviation, as a power of two in 4..32. */
function positionResolution(params: ArrayLike<number>, count: number): number {
  if (count === 0) return 8;
  const smallest = Float64Array.from({ length: count }, (_, i) => {
    const b = i * PARAMS_PER_GAUSSIAN + P_SCALE;
    return Math.min(params[b]!, params[b + 1]!, params[b + 2]!);
  }).sort();
  const s25 = smallest[Math.floor(0.25 * (count - 1))]!;
  return Math.min(32, Math.max(4, 2 ** Math.ceil(Math.log2(12 / s25))));
}

function bitsFor(levels: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.round(levels) + 1)));
}

interface Quantised {
  pos: [number, number, number];
  scale: [number, number, number];
  rotIndex: number;
  rot: [number, number, number];
  sign: number;
  amp: number;
}

function quantiseOne(p: ArrayLike<number>, b: number, s: PackedSteps): Quantised {
  const clampQ = (v: number, bits: number) => Math.min(2 ** bits - 1, Math.max(0, Math.round(v)));
  const limit = 2 ** (s.cellShift + MAX_CELL_BITS) - 1;
  const pos = [0, 1, 2].map((a) => Math.min(limit, Math.max(0, Math.round(p[b + P_POS + a]! / s.posStep[a]!) - s.posMin[a]!))) as [number, number, number];
  const scale = [0, 1, 2].map((a) => clampQ((Math.log2(p[b + P_SCALE + a]!) - s.scaleMin) / s.scaleStep, s.scaleBits)) as [number, number, number];
  const q = [p[b + P_ROT]!, p[b + P_ROT + 1]!, p[b + P_ROT + 2]!, p[b + P_ROT + 3]!];
  const n = Math.hypot(...q);
  let rotIndex = 0;
  for (let k = 1; k < 4; k++) if (Math.abs(q[k]!) > Math.abs(q[rotIndex]!)) rotIndex = k;
  const sgn = q[rotIndex]! < 0 ? -1 : 1; // q and −q are one rotation: make the dropped component positive
  const levels = 2 ** s.rotBits - 1;
  const rot = q.filter((_, k) => k !== rotIndex).map((c) => clampQ(((sgn * c) / n + SQRT1_2) / (2 * SQRT1_2) * levels, s.rotBits)) as [number, number, number];
  const a = p[b + P_AMP]!;
  const amp = clampQ((Math.log2(Math.max(Math.abs(a), 2 ** -30)) - s.ampMin) / s.ampStep, s.ampBits);
  return { pos, scale, rotIndex, rot, sign: a < 0 ? 1 : 0, amp };
}

/** A field's value per quantised level, each computed on first use (a table holds 2^bits; most levels are never used). */
class Levels {
  private readonly values: Float64Array;
  constructor(count: number, private readonly value: (level: number) => number) {
    this.values = new Float64Array(count).fill(NaN);
  }
  at(level: number): number {
    const v = this.values[level]!;
    return v === v ? v : (this.values[level] = this.value(level));
  }
}

/**
 * Quantised fields back to parameters, through tables of the levels a field takes (the same
 * expressions, once per level used instead of once per Gaussian): the decoder runs this for every
 * Gaussian of a file before any voxel is decoded, where `2 **` and a closure per Gaussian were a
 * third of the payload's decode.
 */
class Dequantiser {
  private readonly scale: Levels;
  private readonly rot: Levels;
  private readonly amp: Levels;
  constructor(private readonly s: PackedSteps) {
    this.scale = new Levels(2 ** s.scaleBits, (k) => 2 ** (s.scaleMin + k * s.scaleStep));
    const levels = 2 ** s.rotBits - 1;
    this.rot = new Levels(levels + 1, (k) => (k / levels) * 2 * SQRT1_2 - SQRT1_2);
    this.amp = new Levels(2 ** s.ampBits, (k) => 2 ** (s.ampMin + k * s.ampStep));
  }

  write(g: Quantised, out: Float32Array | Float64Array, b: number): void {
    const { posMin, posStep } = this.s;
    for (let a = 0; a < 3; a++) {
      out[b + P_POS + a] = (g.pos[a]! + posMin[a]!) * posStep[a]!;
      out[b + P_SCALE + a] = this.scale.at(g.scale[a]!);
    }
    const c0 = this.rot.at(g.rot[0]), c1 = this.rot.at(g.rot[1]), c2 = this.rot.at(g.rot[2]);
    const big = Math.sqrt(Math.max(0, 1 - c0 * c0 - c1 * c1 - c2 * c2));
    // the dropped component k is `big`; the three kept ones fill the other places in order
    const r = b + P_ROT, k = g.rotIndex;
    out[r] = k === 0 ? big : c0;
    out[r + 1] = k === 1 ? big : k < 1 ? c0 : c1;
    out[r + 2] = k === 2 ? big : k < 2 ? c1 : c2;
    out[r + 3] = k === 3 ? big : c2;
    const amp = this.amp.at(g.amp);
    out[b + P_AMP] = g.sign ? -amp : amp;
  }
}

/** The parameters as a packed file will hold them (same order), in `out`. */
export function quantizePacked(params: ArrayLike<number>, count: number, steps: PackedSteps, out: Float32Array): void {
  const dq = new Dequantiser(steps);
  for (let i = 0; i < count; i++) dq.write(quantiseOne(params, i * PARAMS_PER_GAUSSIAN, steps), out, i * PARAMS_PER_GAUSSIAN);
}

// Morton codes of 3 × 10 bits fit in 30 bits: plain int32 bit operations are exact.
function morton(x: number, y: number, z: number): number {
  let m = 0;
  for (let b = MAX_CELL_BITS - 1; b >= 0; b--) m = (m << 3) | (((z >> b) & 1) << 2) | (((y >> b) & 1) << 1) | ((x >> b) & 1);
  return m;
}

/** Cell coordinate along `axis` (0 x, 1 y, 2 z) of a Morton code. */
function unmorton(m: number, axis: number): number {
  // three bits of the axis per 9-bit group of the code, through a table of the 512 groups
  const t = UNMORTON[axis]!;
  return t[m & 511]! | (t[(m >>> 9) & 511]! << 3) | (t[(m >>> 18) & 511]! << 6) | (t[(m >>> 27) & 7]! << 9);
}

const UNMORTON = [0, 1, 2].map((axis) => Uint8Array.from({ length: 512 }, (_, g) => {
  let v = 0;
  for (let b = 0; b < 3; b++) v |= ((g >>> (3 * b + axis)) & 1) << b;
  return v;
}));

class Models {
  gap = new GammaModel();
  offset: IntModel[];
  scale: IntModel[];
  rotIndex = new IntModel(2);
  rot: IntModel[];
  sign = new IntModel(1);
  amp: IntModel;
  constructor(s: PackedSteps) {
    const cell = Math.max(1, s.cellShift);
    this.offset = [0, 1, 2].map(() => new IntModel(cell));
    this.scale = [0, 1, 2].map(() => new IntModel(s.scaleBits));
    this.rot = [0, 1, 2].map(() => new IntModel(s.rotBits));
    this.amp = new IntModel(s.ampBits);
  }
}

export function encodePacked(params: Float32Array, count: number, steps: PackedSteps): Uint8Array {
  const body = encodePackedStream(params, count, steps);
  const out = new Uint8Array(HEAD_BYTES + body.length);
  writeSteps(new DataView(out.buffer), steps);
  out.set(body, HEAD_BYTES);
  return out;
}

/**
 * The range-coded stream of a packed payload without its quantisation table: what a container
 * that stores the steps its own way (a store chunk, docs/vmg-zarr-codec.md § 3) writes after them.
 */
export function encodePackedStream(params: Float32Array, count: number, steps: PackedSteps): Uint8Array {
  const gs = Array.from({ length: count }, (_, i) => quantiseOne(params, i * PARAMS_PER_GAUSSIAN, steps));
  const cellOf = (g: Quantised) => morton(g.pos[0] >> steps.cellShift, g.pos[1] >> steps.cellShift, g.pos[2] >> steps.cellShift);
  const keys = gs.map((g, i) => ({ g, i, cell: cellOf(g) }));
  keys.sort((a, b) => a.cell - b.cell || a.g.pos[2] - b.g.pos[2] || a.g.pos[1] - b.g.pos[1] || a.g.pos[0] - b.g.pos[0] || a.i - b.i);
  const rc = new RangeEncoder();
  const m = new Models(steps);
  const mask = 2 ** steps.cellShift - 1;
  let prev = 0;
  for (const { g, cell } of keys) {
    m.gap.encode(rc, cell - prev);
    prev = cell;
    if (steps.cellShift > 0) for (let a = 0; a < 3; a++) m.offset[a]!.encode(rc, g.pos[a]! & mask);
    for (let a = 0; a < 3; a++) m.scale[a]!.encode(rc, g.scale[a]!);
    m.rotIndex.encode(rc, g.rotIndex);
    for (let a = 0; a < 3; a++) m.rot[a]!.encode(rc, g.rot[a]!);
    m.sign.encode(rc, g.sign);
    m.amp.encode(rc, g.amp);
  }
  return rc.finish();
}

export function decodePacked(bytes: Uint8Array, count: number): { params: Float32Array; steps: PackedSteps } {
  if (bytes.length < HEAD_BYTES) throw new CountMismatchError(`packed payload of ${bytes.length} bytes is shorter than its ${HEAD_BYTES}-byte header`);
  if (count > maxPackedCount(bytes.length)) throw new CountBoundError(count, maxPackedCount(bytes.length), `cannot fit in a packed payload of ${bytes.length} bytes`);
  const steps = readSteps(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { params: decodePackedStream(bytes.subarray(HEAD_BYTES), count, steps), steps };
}

/** The Gaussians of a packed stream (encodePackedStream) whose steps the caller read and checked (checkPackedSteps) itself. */
export function decodePackedStream(stream: Uint8Array, count: number, steps: PackedSteps): Float32Array {
  if (count > Math.floor(stream.length / MIN_BYTES_PER_GAUSSIAN)) throw new CountBoundError(count, Math.floor(stream.length / MIN_BYTES_PER_GAUSSIAN), `cannot fit in a packed stream of ${stream.length} bytes`);
  const rd = new RangeDecoder(stream);
  const m = new Models(steps);
  const out = new Float32Array(count * PARAMS_PER_GAUSSIAN);
  const dq = new Dequantiser(steps);
  const cellSize = 2 ** steps.cellShift;
  // one scratch record: this runs once per file, before any voxel is decoded, and must be quick
  const g: Quantised = { pos: [0, 0, 0], scale: [0, 0, 0], rotIndex: 0, rot: [0, 0, 0], sign: 0, amp: 0 };
  let cell = 0;
  for (let i = 0; i < count; i++) {
    cell += m.gap.decode(rd);
    if (cell >= 2 ** (3 * MAX_CELL_BITS)) throw new InvalidParameterError(`packed Gaussian ${i}: position outside the grid (corrupt stream)`);
    for (let a = 0; a < 3; a++) g.pos[a] = unmorton(cell, a) * cellSize + (steps.cellShift > 0 ? m.offset[a]!.decode(rd) : 0);
    for (let a = 0; a < 3; a++) g.scale[a] = m.scale[a]!.decode(rd);
    g.rotIndex = m.rotIndex.decode(rd);
    for (let a = 0; a < 3; a++) g.rot[a] = m.rot[a]!.decode(rd);
    g.sign = m.sign.decode(rd);
    g.amp = m.amp.decode(rd);
    dq.write(g, out, i * PARAMS_PER_GAUSSIAN);
  }
  return out;
}

function writeSteps(v: DataView, s: PackedSteps): void {
  let o = 0;
  v.setUint8(o++, LAYOUT);
  for (const x of s.posStep) { v.setFloat32(o, x, true); o += 4; }
  for (const x of s.posMin) { v.setInt32(o, x, true); o += 4; }
  v.setUint8(o++, s.cellShift);
  v.setFloat32(o, s.scaleMin, true); o += 4;
  v.setFloat32(o, s.scaleStep, true); o += 4;
  v.setUint8(o++, s.scaleBits);
  v.setUint8(o++, s.rotBits);
  v.setFloat32(o, s.ampMin, true); o += 4;
  v.setFloat32(o, s.ampStep, true); o += 4;
  v.setUint8(o++, s.ampBits);
}

function readSteps(v: DataView): PackedSteps {
  let o = 0;
  const layout = v.getUint8(o++);
  if (layout !== LAYOUT) throw new InvalidHeaderError(`packed payload layout ${layout} is not known (this reader reads ${LAYOUT})`);
  const f = () => { const x = v.getFloat32(o, true); o += 4; return x; };
  const posStep = [f(), f(), f()] as [number, number, number];
  const posMin = [0, 1, 2].map(() => { const x = v.getInt32(o, true); o += 4; return x; }) as [number, number, number];
  const cellShift = v.getUint8(o++);
  const scaleMin = f(), scaleStep = f(), scaleBits = v.getUint8(o++), rotBits = v.getUint8(o++);
  const ampMin = f(), ampStep = f(), ampBits = v.getUint8(o++);
  const s: PackedSteps = { posStep, posMin, cellShift, scaleMin, scaleStep, scaleBits, rotBits, ampMin, ampStep, ampBits };
  checkPackedSteps(s);
  return s;
}

/** Hostile tables: every step finite and positive, every width small enough to model (InvalidHeaderError). */
export function checkPackedSteps(s: PackedSteps): void {
  const { posStep, posMin, cellShift, scaleMin, scaleStep, scaleBits, rotBits, ampMin, ampStep, ampBits } = s;
  if (![...posStep, scaleStep, ampStep].every((x) => Number.isFinite(x) && x > 0)) throw new InvalidHeaderError("packed payload has a non-positive or non-finite quantisation step");
  if (![scaleMin, ampMin].every(Number.isFinite) || posMin.some((x) => Math.abs(x) > 2 ** 30)) throw new InvalidHeaderError("packed payload has an invalid quantisation origin");
  if (cellShift > MAX_CELL_SHIFT || scaleBits < 1 || scaleBits > 16 || rotBits < 2 || rotBits > 16 || ampBits < 1 || ampBits > 16) throw new InvalidHeaderError("packed payload declares field widths out of range");
}
