/**
 * `Volume` -> multi-page greyscale TIFF stack (one page per Z plane, axes Z,Y,X): an uncompressed
 * little-endian classic TIFF with one IFD and one strip per plane, plus an ImageJ-style
 * ImageDescription so Fiji opens it as a calibrated stack. Apart from the reader (tiff.ts), so
 * that writing a TIFF (`vmg decode -o out.tif`) does not load the reader's `geotiff`.
 * (utif2's `UTIF.encode` was considered for the IFDs but always writes big-endian and builds them
 * in a fixed 20 000-byte buffer, which silently truncates stacks beyond ~100 planes.)
 *
 * Browser-safe: no `node:` imports.
 */
import type { DType } from "../core/dtype.js";
import type { Volume } from "../core/volume.js";
import { VolumeWriteError } from "./errors.js";
import { normaliseUnit } from "./units.js";

const SAMPLE: Partial<Record<DType, { bits: number; format: number }>> = {
  uint8: { bits: 8, format: 1 },
  uint16: { bits: 16, format: 1 },
  int8: { bits: 8, format: 2 },
  int16: { bits: 16, format: 2 },
  float32: { bits: 32, format: 3 },
};

// TIFF field types
const SHORT = 3, LONG = 4, ASCII = 2, RATIONAL = 5;
const TYPE_BYTES: Record<number, number> = { [ASCII]: 1, [SHORT]: 2, [LONG]: 4, [RATIONAL]: 8 };

interface Entry { tag: number; type: number; values: number[] | string }

/**
 * An uncompressed little-endian classic TIFF: header, then all IFDs (each followed by its
 * out-of-line values), then the planes. One strip per plane, as ImageJ writes them.
 */
export function encodeTiffStack(volume: Volume): Uint8Array {
  const [nz, ny, nx] = volume.shape;
  const head = tiffStackHeader(volume);
  if (volume.data.length !== nz * ny * nx) {
    throw new VolumeWriteError("TIFF output", `data has ${volume.data.length} voxels but shape ${volume.shape.join("x")} needs ${nz * ny * nx}`);
  }
  const out = new Uint8Array(head.length + volume.data.byteLength);
  out.set(head);
  out.set(tiffPlanes(volume.data, ny * nx, 0, nz), head.length);
  return out;
}

/**
 * Planes [z0, z1) of `data` (planes of `planeVoxels`) as the file stores them: a view of the
 * data on a little-endian host (no copy: a decoded 303³ u16 volume is 56 MB, and copying it cost
 * more than writing it), a byte-swapped copy elsewhere.
 */
export function tiffPlanes(data: Volume["data"], planeVoxels: number, z0: number, z1: number): Uint8Array {
  const width = data.BYTES_PER_ELEMENT;
  const planes = new Uint8Array(data.buffer, data.byteOffset + z0 * planeVoxels * width, (z1 - z0) * planeVoxels * width);
  if (HOST_LITTLE_ENDIAN || width === 1) return planes;
  const swapped = planes.slice();
  swapBytes(swapped, width);
  return swapped;
}

/**
 * The file up to its first plane (header, IFDs, padding) for a volume of this shape, type and
 * calibration; plane z starts at the returned length + z · plane bytes. Needs no voxels, so a
 * decoder can write it first and each plane as it is decoded.
 */
export function tiffStackHeader(volume: Omit<Volume, "data">): Uint8Array {
  const [nz, ny, nx] = volume.shape;
  const sample = SAMPLE[volume.dtype];
  const target = "TIFF output";
  if (!sample) {
    throw new VolumeWriteError(target, `cannot write ${volume.dtype} voxels to TIFF (supported: uint8, uint16, int8, int16, float32); write a .zarr instead`);
  }
  if (!(nz >= 1 && ny >= 1 && nx >= 1)) throw new VolumeWriteError(target, `empty volume shape ${volume.shape.join("x")}`);
  const planeBytes = nx * ny * (sample.bits / 8);

  const calib = imageJCalibration(volume);
  const ifds: Entry[][] = [];
  for (let z = 0; z < nz; z++) {
    const entries: Entry[] = [
      { tag: 256, type: LONG, values: [nx] },
      { tag: 257, type: LONG, values: [ny] },
      { tag: 258, type: SHORT, values: [sample.bits] },
      { tag: 259, type: SHORT, values: [1] },
      { tag: 262, type: SHORT, values: [1] }, // BlackIsZero
    ];
    if (z === 0) entries.push({ tag: 270, type: ASCII, values: imageJDescription(nz, calib) });
    entries.push(
      { tag: 273, type: LONG, values: [0] }, // StripOffsets, patched below
      { tag: 277, type: SHORT, values: [1] },
      { tag: 278, type: LONG, values: [ny] },
      { tag: 279, type: LONG, values: [planeBytes] },
    );
    if (calib) {
      entries.push(
        { tag: 282, type: RATIONAL, values: rational(1 / calib.x) },
        { tag: 283, type: RATIONAL, values: rational(1 / calib.y) },
        { tag: 296, type: SHORT, values: [calib.resolutionUnit] },
      );
    }
    entries.push({ tag: 339, type: SHORT, values: [sample.format] });
    ifds.push(entries);
  }

  // Layout: offsets of each IFD, then the first plane starts after all of them.
  const ifdOffsets: number[] = [];
  let pos = 8;
  for (const entries of ifds) {
    ifdOffsets.push(pos);
    pos += ifdSize(entries);
  }
  const dataStart = align(pos, 16);
  const total = dataStart + nz * planeBytes;
  if (total > 0xffffffff) throw new VolumeWriteError(target, `volume needs ${total} bytes, more than a classic TIFF can address (4 GiB); write a .zarr instead`);

  const out = new Uint8Array(dataStart);
  const view = new DataView(out.buffer);
  out[0] = out[1] = 0x49; // "II": little-endian
  view.setUint16(2, 42, true);
  view.setUint32(4, ifdOffsets[0]!, true);
  ifds.forEach((entries, z) => {
    const strip = entries.find((e) => e.tag === 273)!;
    strip.values = [dataStart + z * planeBytes];
    writeIfd(view, ifdOffsets[z]!, entries, z + 1 < nz ? ifdOffsets[z + 1]! : 0);
  });

  return out;
}

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function swapBytes(b: Uint8Array, width: number): void {
  for (let i = 0; i + width <= b.length; i += width) b.subarray(i, i + width).reverse();
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function valueBytes(e: Entry): number {
  const count = typeof e.values === "string" ? e.values.length + 1 : e.type === RATIONAL ? e.values.length / 2 : e.values.length;
  return count * TYPE_BYTES[e.type]!;
}

/** Entry table plus out-of-line values (word-aligned). */
function ifdSize(entries: Entry[]): number {
  let n = 2 + entries.length * 12 + 4;
  for (const e of entries) {
    const b = valueBytes(e);
    if (b > 4) n += align(b, 2);
  }
  return align(n, 4);
}

function writeIfd(view: DataView, at: number, entries: Entry[], next: number): void {
  entries.sort((a, b) => a.tag - b.tag); // TIFF requires ascending tags
  view.setUint16(at, entries.length, true);
  let extra = at + 2 + entries.length * 12 + 4;
  entries.forEach((e, i) => {
    const p = at + 2 + i * 12;
    const bytes = valueBytes(e);
    const count = typeof e.values === "string" ? e.values.length + 1 : e.type === RATIONAL ? e.values.length / 2 : e.values.length;
    view.setUint16(p, e.tag, true);
    view.setUint16(p + 2, e.type, true);
    view.setUint32(p + 4, count, true);
    let v = p + 8;
    if (bytes > 4) {
      view.setUint32(p + 8, extra, true);
      v = extra;
      extra += align(bytes, 2);
    }
    if (typeof e.values === "string") {
      for (let k = 0; k < e.values.length; k++) view.setUint8(v + k, e.values.charCodeAt(k) & 0x7f);
      view.setUint8(v + e.values.length, 0);
    } else {
      const w = e.type === SHORT ? 2 : 4;
      e.values.forEach((x, k) => (w === 2 ? view.setUint16(v + 2 * k, x, true) : view.setUint32(v + 4 * k, x, true)));
    }
  });
  view.setUint32(at + 2 + entries.length * 12, next, true);
}

interface Calibration { x: number; y: number; z: number; unit: string; resolutionUnit: number; origin?: [number, number, number] }

function imageJCalibration(volume: Omit<Volume, "data">): Calibration | undefined {
  const vs = volume.voxelSize;
  if (!vs || !vs.every((v) => Number.isFinite(v) && v > 0)) return undefined;
  const unit = imageJUnit(volume.unit);
  // ImageJ's convention: ResolutionUnit says inch/cm only for those units, else "none" + unit=.
  const resolutionUnit = unit === "inch" ? 2 : unit === "cm" ? 3 : 1;
  const calib: Calibration = { z: vs[0], y: vs[1], x: vs[2], unit, resolutionUnit };
  const o = volume.origin;
  if (o && o.some((v) => v !== 0) && o.every(Number.isFinite)) calib.origin = [-o[0] / vs[0], -o[1] / vs[1], -o[2] / vs[2]];
  return calib;
}

function imageJUnit(unit: string | undefined): string {
  switch (normaliseUnit(unit ?? "")) {
    case undefined: return "pixel";
    case "micrometer": return "micron";
    case "nanometer": return "nm";
    case "millimeter": return "mm";
    case "centimeter": return "cm";
    case "meter": return "m";
    case "inch": return "inch";
    default: return (unit ?? "").replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`);
  }
}

function imageJDescription(nz: number, calib: Calibration | undefined): string {
  let s = "ImageJ=1.11a\n";
  if (nz > 1) s += `images=${nz}\nslices=${nz}\n`;
  if (calib) s += `unit=${calib.unit}\nspacing=${calib.z}\n`;
  // ImageJ's origin, in pixels (see imageJMeta).
  if (calib?.origin) s += `xorigin=${calib.origin[2]}\nyorigin=${calib.origin[1]}\nzorigin=${calib.origin[0]}\n`;
  if (nz > 1) s += "loop=false\n";
  return s;
}

/** Best rational num/den (both < 2^32) for x > 0, so e.g. 1/0.3 is stored as 10/3 and reads back exactly. */
export function rational(x: number): [number, number] {
  const MAX = 0xffffffff;
  if (!(x > 0) || !Number.isFinite(x)) return [0, 1];
  if (x >= MAX) return [MAX, 1];
  let [h0, h1, k0, k1] = [0, 1, 1, 0]; // convergents h/k
  let r = x;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(r);
    const h2 = a * h1 + h0, k2 = a * k1 + k0;
    if (h2 > MAX || k2 > MAX) break;
    [h0, h1, k0, k1] = [h1, h2, k1, k2];
    if (h1 / k1 === x || r - a < 1e-12) break;
    r = 1 / (r - a);
  }
  if (h1 === 0) return [1, Math.min(MAX, Math.round(1 / x))];
  return [h1, k1];
}
