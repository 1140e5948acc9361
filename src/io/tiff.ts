/**
 * Multi-page greyscale TIFF stacks <-> `Volume` (one page per Z plane, axes Z,Y,X).
 *
 * Reading uses the `tiff` package (strips or tiles, uncompressed/LZW/deflate, either byte order).
 * Writing is our own: an uncompressed little-endian classic TIFF with one IFD and one strip per
 * plane, plus an ImageJ-style ImageDescription so Fiji opens it as a calibrated stack.
 * (utif2's `UTIF.encode` was considered for the IFDs but always writes big-endian and builds them
 * in a fixed 20 000-byte buffer, which silently truncates stacks beyond ~100 planes.)
 *
 * Browser-safe: no `node:` imports.
 */
import { decode as decodeTiff } from "tiff";
import type { DType, VoxelArray } from "../core/dtype.js";
import { allocVoxels } from "../core/dtype.js";
import type { Volume } from "../core/volume.js";
import {
  NotAVolumeError, UnsupportedDTypeError, UnsupportedFormatError, VolumeReadError, VolumeWriteError,
} from "./errors.js";
import { normaliseUnit } from "./units.js";

type TiffPage = ReturnType<typeof decodeTiff>[number];

/** Pages decoded per `tiff.decode` call: bounds the transient per-page copies for big stacks. */
const PAGE_BATCH = 64;

// ---------------------------------------------------------------------------------------------
// Reading

export function decodeTiffStack(bytes: Uint8Array, name: string): Volume {
  if (bytes.byteLength === 0) throw new NotAVolumeError(name, "empty file");
  checkHeader(bytes, name);

  let headers: TiffPage[];
  try {
    headers = decodeTiff(bytes, { ignoreImageData: true });
  } catch (e) {
    throw new VolumeReadError(name, `corrupt or truncated TIFF (${errText(e)})`, { cause: e });
  }
  // Reduced-resolution pages (NewSubfileType bit 0: thumbnails, pyramid levels) are not Z planes.
  const planes: number[] = [];
  headers.forEach((p, i) => { if (((p.newSubfileType ?? 0) & 1) === 0) planes.push(i); });
  if (planes.length === 0) throw new NotAVolumeError(name, "TIFF has no full-resolution image pages");

  const first = headers[planes[0]!]!;
  const dtype = pageDType(first, name, planes[0]!);
  const width = first.width, height = first.height;
  if (!(width > 0 && height > 0)) throw new NotAVolumeError(name, `page 0 has an empty size ${width}x${height}`);
  for (const i of planes) {
    const p = headers[i]!;
    checkPageLayout(p, name, i);
    checkDataInside(p, bytes.byteLength, name, i);
    const d = pageDType(p, name, i);
    if (d !== dtype) throw new UnsupportedFormatError(name, `page ${i} is ${d} but page 0 is ${dtype}; mixed-type stacks are not supported`);
    if (p.width !== width || p.height !== height) {
      throw new NotAVolumeError(name, `page ${i} is ${p.width}x${p.height} but page 0 is ${width}x${height}; all Z planes must have the same size`);
    }
  }

  const meta = readMetadata(first.imageDescription, first, planes.length, name);

  const planeSize = width * height;
  const data = allocVoxels(dtype, planeSize * planes.length);
  // Signed pages come back from `tiff` as unsigned arrays of the same width: copy the bits.
  const sink = bitView(data);
  for (let b = 0; b < planes.length; b += PAGE_BATCH) {
    const batch = planes.slice(b, b + PAGE_BATCH);
    let pages: TiffPage[];
    try {
      pages = decodeTiff(bytes, { pages: batch });
    } catch (e) {
      throw new VolumeReadError(name, `cannot decode TIFF image data (${errText(e)})`, { cause: e });
    }
    pages.forEach((p, k) => {
      if (p.data.length !== planeSize) {
        throw new VolumeReadError(name, `page ${batch[k]} decoded to ${p.data.length} samples, expected ${planeSize}`);
      }
      (sink as Uint8Array).set(p.data as Uint8Array, (b + k) * planeSize);
    });
  }

  const volume: Volume = { shape: [planes.length, height, width], dtype, data };
  if (meta.voxelSize) volume.voxelSize = meta.voxelSize;
  if (meta.unit) volume.unit = meta.unit;
  return volume;
}

function checkHeader(bytes: Uint8Array, name: string): void {
  if (bytes.byteLength < 8) throw new UnsupportedFormatError(name, "not a TIFF file (too short)");
  const le = bytes[0] === 0x49 && bytes[1] === 0x49, be = bytes[0] === 0x4d && bytes[1] === 0x4d;
  if (!le && !be) throw new UnsupportedFormatError(name, "not a TIFF file (bad byte-order mark)");
  const magic = le ? bytes[2]! | (bytes[3]! << 8) : (bytes[2]! << 8) | bytes[3]!;
  if (magic === 43) throw new UnsupportedFormatError(name, "BigTIFF is not supported; save as classic TIFF or zarr");
  if (magic !== 42) throw new UnsupportedFormatError(name, "not a TIFF file (bad magic number)");
}

function pageDType(p: TiffPage, name: string, i: number): DType {
  const bits = p.bitsPerSample ?? 1, fmt = p.sampleFormat;
  if (fmt === 1 && bits === 8) return "uint8";
  if (fmt === 1 && bits === 16) return "uint16";
  if (fmt === 2 && bits === 8) return "int8";
  if (fmt === 2 && bits === 16) return "int16";
  if (fmt === 3 && bits === 32) return "float32";
  const kind = fmt === 3 ? "float" : fmt === 2 ? "int" : fmt === 1 ? "uint" : `sample-format-${fmt} `;
  throw new UnsupportedDTypeError(name, `${kind}${bits}`, `TIFF page ${i}; readable: 8/16-bit integer and 32-bit float greyscale`);
}

const COMPRESSIONS = new Set([1, 5, 8, 32946]); // none, LZW, deflate (both codes)

function checkPageLayout(p: TiffPage, name: string, i: number): void {
  if (p.samplesPerPixel !== 1) {
    throw new UnsupportedFormatError(name, `page ${i} has ${p.samplesPerPixel} samples per pixel (RGB or alpha); only single-channel greyscale stacks are supported`);
  }
  const photometric = p.type ?? 1;
  if (photometric === 3) throw new UnsupportedFormatError(name, `page ${i} is a palette-colour image; only greyscale is supported`);
  if (photometric !== 0 && photometric !== 1) {
    throw new UnsupportedFormatError(name, `page ${i} has photometric interpretation ${photometric}; only greyscale (0/1) is supported`);
  }
  if (photometric === 0 && p.sampleFormat !== 1) {
    throw new UnsupportedFormatError(name, `page ${i} is WhiteIsZero with signed or float samples`);
  }
  if (!COMPRESSIONS.has(p.compression)) {
    throw new UnsupportedFormatError(name, `page ${i} uses TIFF compression ${p.compression}; supported: none, LZW, deflate`);
  }
  if (p.predictor !== 1 && !(p.predictor === 2 && p.bitsPerSample <= 16 && p.sampleFormat !== 3)) {
    throw new UnsupportedFormatError(name, `page ${i} uses TIFF predictor ${p.predictor} with ${p.bitsPerSample}-bit samples`);
  }
  const orientation = p.orientation ?? 1;
  if (orientation !== 1) throw new UnsupportedFormatError(name, `page ${i} has TIFF orientation ${orientation}; only top-left (1) is supported`);
}

/**
 * Strip/tile byte ranges must lie inside the input. (`tiff` reads through the view's underlying
 * ArrayBuffer, so a truncated subarray would otherwise decode neighbouring memory.)
 */
function checkDataInside(p: TiffPage, size: number, name: string, i: number): void {
  const offsets = p.tiled ? p.tileOffsets : p.stripOffsets;
  const counts = p.tiled ? p.tileByteCounts : p.stripByteCounts;
  if (offsets.length === 0) throw new VolumeReadError(name, `page ${i} has no image data offsets`);
  offsets.forEach((o, k) => {
    const end = o + (counts[k] ?? 0);
    if (!(end <= size)) throw new VolumeReadError(name, `truncated TIFF: page ${i} image data ends at byte ${end} but the file has ${size} bytes`);
  });
}

/** An unsigned view of the same bytes, so decoded unsigned pages can be copied into signed volumes. */
function bitView(a: VoxelArray): Uint8Array | Uint16Array | Float32Array {
  if (a instanceof Int8Array) return new Uint8Array(a.buffer, a.byteOffset, a.length);
  if (a instanceof Int16Array) return new Uint16Array(a.buffer, a.byteOffset, a.length);
  return a as Uint8Array | Uint16Array | Float32Array;
}

interface StackMeta { voxelSize?: [number, number, number]; unit?: string }

/**
 * Physical voxel size and stack sanity from the first page's description: OME-XML, ImageJ, or
 * tifffile's JSON. The XY size of ImageJ files comes from X/YResolution (pixels per unit).
 * Plain TIFFs only carry X/YResolution; a Z spacing is then unknown and we do not guess one, and
 * inch-based resolution is ignored (72 dpi is a common non-physical default).
 */
function readMetadata(desc: unknown, p: TiffPage, nPlanes: number, name: string): StackMeta {
  const text = typeof desc === "string" ? desc : Array.isArray(desc) && typeof desc[0] === "string" ? desc[0] : "";
  if (text.includes("<OME")) return omeMeta(text, name);
  if (text.startsWith("ImageJ=")) return imageJMeta(text, p, nPlanes, name);
  if (text.startsWith("{")) tifffileCheck(text, name);
  return {};
}

function imageJMeta(text: string, p: TiffPage, nPlanes: number, name: string): StackMeta {
  const kv = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) kv.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const int = (k: string) => (kv.has(k) ? Number.parseInt(kv.get(k)!, 10) : 1);
  if (int("channels") > 1) throw new UnsupportedFormatError(name, `ImageJ hyperstack with ${int("channels")} channels; only single-channel stacks are supported`);
  if (int("frames") > 1 && int("slices") > 1) throw new NotAVolumeError(name, `ImageJ hyperstack with ${int("frames")} time frames of ${int("slices")} slices; expected one Z stack`);
  const images = int("images");
  if (images > nPlanes) {
    throw new UnsupportedFormatError(name, `ImageJ description says images=${images} but the file has ${nPlanes} pages (ImageJ's raw >4 GiB layout is not supported)`);
  }
  const unit = normaliseUnit(unescapeImageJ(kv.get("unit") ?? ""));
  if (!unit) return {};
  // `tiff` hands rationals over already divided; 12 significant digits undo 1/(1/x) rounding.
  const size = (r: unknown) => (typeof r === "number" && r > 0 && Number.isFinite(r) ? Number((1 / r).toPrecision(12)) : undefined);
  const x = size(p.xResolution) ?? 1;
  const y = size(p.yResolution) ?? x;
  const zs = Number.parseFloat(kv.get("spacing") ?? "");
  const z = Number.isFinite(zs) && zs > 0 ? zs : 1; // ImageJ's own default depth
  return { voxelSize: [z, y, x], unit };
}

/** ImageJ writes non-ASCII as `\u00B5m` escapes. */
function unescapeImageJ(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

function omeMeta(xml: string, name: string): StackMeta {
  const pixels = /<(?:\w+:)?Pixels\b([^>]*)>/.exec(xml)?.[1];
  if (!pixels) return {};
  const attr = (k: string) => new RegExp(`\\b${k}="([^"]*)"`).exec(pixels)?.[1];
  const size = (k: string) => Number.parseInt(attr(k) ?? "1", 10);
  if (size("SizeC") > 1) throw new UnsupportedFormatError(name, `OME-TIFF with ${size("SizeC")} channels; only single-channel stacks are supported`);
  if (size("SizeT") > 1 && size("SizeZ") > 1) throw new NotAVolumeError(name, `OME-TIFF with ${size("SizeT")} time points of ${size("SizeZ")} planes; expected one Z stack`);
  const phys = (a: string) => {
    const v = Number.parseFloat(attr(`PhysicalSize${a}`) ?? "");
    return Number.isFinite(v) && v > 0 ? { v, unit: normaliseUnit(attr(`PhysicalSize${a}Unit`) ?? "µm") } : undefined;
  };
  const x = phys("X"), y = phys("Y"), z = phys("Z");
  if (!x || !y || !z || !x.unit || x.unit !== y.unit || x.unit !== z.unit) return {};
  return { voxelSize: [z.v, y.v, x.v], unit: x.unit };
}

function tifffileCheck(json: string, name: string): void {
  let meta: unknown;
  try { meta = JSON.parse(json); } catch { return; }
  const m = meta as { axes?: unknown; shape?: unknown };
  if (typeof m.axes !== "string" || !Array.isArray(m.shape) || m.axes.length !== m.shape.length) return;
  [...m.axes.toUpperCase()].forEach((a, i) => {
    const n = Number(m.shape && (m.shape as unknown[])[i]);
    if ((a === "C" || a === "S") && n > 1) {
      throw new UnsupportedFormatError(name, `TIFF holds ${n} channels (axes ${m.axes}); only single-channel stacks are supported`);
    }
  });
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------------
// Writing

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
  const sample = SAMPLE[volume.dtype];
  const target = "TIFF output";
  if (!sample) {
    throw new VolumeWriteError(target, `cannot write ${volume.dtype} voxels to TIFF (supported: uint8, uint16, int8, int16, float32); write a .zarr instead`);
  }
  if (!(nz >= 1 && ny >= 1 && nx >= 1)) throw new VolumeWriteError(target, `empty volume shape ${volume.shape.join("x")}`);
  if (volume.data.length !== nz * ny * nx) {
    throw new VolumeWriteError(target, `data has ${volume.data.length} voxels but shape ${volume.shape.join("x")} needs ${nz * ny * nx}`);
  }
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

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out[0] = out[1] = 0x49; // "II": little-endian
  view.setUint16(2, 42, true);
  view.setUint32(4, ifdOffsets[0]!, true);
  ifds.forEach((entries, z) => {
    const strip = entries.find((e) => e.tag === 273)!;
    strip.values = [dataStart + z * planeBytes];
    writeIfd(view, ifdOffsets[z]!, entries, z + 1 < nz ? ifdOffsets[z + 1]! : 0);
  });

  const src = volume.data;
  const srcBytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  out.set(srcBytes, dataStart);
  if (!HOST_LITTLE_ENDIAN && sample.bits > 8) swapBytes(out.subarray(dataStart), sample.bits / 8);
  return out;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytes(b: Uint8Array, width: number): void {
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

interface Calibration { x: number; y: number; z: number; unit: string; resolutionUnit: number }

function imageJCalibration(volume: Volume): Calibration | undefined {
  const vs = volume.voxelSize;
  if (!vs || !vs.every((v) => Number.isFinite(v) && v > 0)) return undefined;
  const unit = imageJUnit(volume.unit);
  // ImageJ's convention: ResolutionUnit says inch/cm only for those units, else "none" + unit=.
  const resolutionUnit = unit === "inch" ? 2 : unit === "cm" ? 3 : 1;
  return { z: vs[0], y: vs[1], x: vs[2], unit, resolutionUnit };
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
