/**
 * Multi-page greyscale TIFF stacks <-> `Volume` (one page per Z plane, axes Z,Y,X).
 *
 * Reading goes through `geotiff`: it parses classic and BigTIFF directories of either byte order
 * and holds the decoders (LZW, deflate, PackBits, ZSTD, …, and LZMA from `tiff-lzma.ts`;
 * predictors are applied by them). We
 * only check that a page is a greyscale plane and put its decoded strips or tiles in place;
 * uncompressed blocks are copied straight from the file (no decoder round trip).
 * Writing is our own, in tiff-write.ts (re-exported here), which does not load `geotiff`.
 *
 * Browser-safe: no `node:` imports.
 */
import { GeoTIFF, getDecoder, type ImageFileDirectory } from "geotiff";
import type { Box } from "../core/background.js";
import type { DType } from "../core/dtype.js";
import { allocVoxels } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import { boxCalibration, boxShape, checkBox, wholeBox, type VolumeSource } from "./region.js";
import {
  NotAVolumeError, UnsupportedDTypeError, UnsupportedFeatureError, UnsupportedFormatError, VolumeReadError, VolumeWriteError,
} from "./errors.js";
import { TIFF_LZMA } from "./tiff-lzma.js";
import { normaliseUnit, unitFactor } from "./units.js";
import { HOST_LITTLE_ENDIAN, swapBytes } from "./tiff-write.js";

export { encodeTiffStack, rational } from "./tiff-write.js";

// ---------------------------------------------------------------------------------------------
// Reading

/** The tags of one page that reading needs, loaded once. */
interface Page {
  index: number;
  width: number;
  height: number;
  bits: number;
  format: number;
  samples: number;
  photometric: number;
  compression: number;
  predictor: number;
  orientation: number;
  subfile: number;
  /** Block (strip or tile) size in pixels; a strip is as wide as the page. */
  blockWidth: number;
  blockHeight: number;
  tiled: boolean;
  offsets: ArrayLike<number | bigint>;
  counts: ArrayLike<number | bigint>;
  fd: ImageFileDirectory;
}

/** TIFF compression codes by name, for messages about those no decoder here reads. */
const COMPRESSION_NAMES: Record<number, string> = {
  1: "none", 2: "CCITT RLE", 3: "CCITT Group 3", 4: "CCITT Group 4", 5: "LZW", 6: "old-style JPEG", 7: "JPEG",
  8: "deflate", 32946: "deflate", 32773: "PackBits", 34887: "LERC", 34925: "LZMA", 50000: "ZSTD", 50001: "WebP", 50002: "JPEG XL",
};
/** What `geotiff`'s registry (plus our LZMA) decodes losslessly for greyscale samples (JPEG, WebP, LERC are lossy or colour). */
const READABLE_COMPRESSIONS = new Set([1, 5, 8, 32946, 32773, 50000, TIFF_LZMA]);

/** Upper bound on pages a cyclic or hostile IFD chain could make us visit. */
const MIN_IFD_BYTES = 2 + 12 + 4;

/** Random access to a file's bytes: a whole file in memory, or a Node file handle (node/tiff-file.ts). */
export interface ByteRanges {
  size: number;
  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Bytes already in memory as `ByteRanges`. */
export function bytesRanges(bytes: Uint8Array): ByteRanges {
  return { size: bytes.byteLength, read: async (offset, length) => bytes.subarray(offset, Math.min(bytes.byteLength, offset + length)) };
}

/** A whole TIFF stack in memory. */
export async function decodeTiffStack(bytes: Uint8Array, name: string): Promise<Volume> {
  const source = await openTiffSource(bytesRanges(bytes), name);
  const v = await source.read(wholeBox(source.shape));
  if (source.convertedFrom) v.sourceDType = source.convertedFrom;
  return v;
}

/**
 * A TIFF stack opened for region reads: every page's directory is read and checked up front, and a
 * box reads only the pages of its z range and, of each, only the strips or tiles its rows and
 * columns touch (uncompressed: just the rows it needs; compressed: each touched strip or tile
 * decoded whole, so a huge compressed single-strip page is decoded once per box that touches it).
 */
export async function openTiffSource(file: ByteRanges, name: string): Promise<VolumeSource> {
  if (file.size === 0) throw new NotAVolumeError(name, "empty file");
  const littleEndian = checkHeader(await file.read(0, 16), name);

  const all = await readPages(file, name);
  // Reduced-resolution pages (NewSubfileType bit 0: thumbnails, pyramid levels) are not Z planes.
  const planes = all.filter((p) => (p.subfile & 1) === 0);
  const first = planes[0];
  if (!first) throw new NotAVolumeError(name, "TIFF has no full-resolution image pages");
  const sample = pageDType(first, name);
  const { width, height } = first;
  if (!(width > 0 && height > 0)) throw new NotAVolumeError(name, `page 0 has an empty size ${width}x${height}`);
  for (const p of planes) {
    checkPageLayout(p, name, littleEndian);
    checkDataInside(p, file.size, name);
    const d = pageDType(p, name);
    if (d !== sample) throw new UnsupportedFormatError(name, `page ${p.index} is ${d} but page 0 is ${sample}; mixed-type stacks are not supported`);
    if (p.width !== width || p.height !== height) {
      throw new NotAVolumeError(name, `page ${p.index} is ${p.width}x${p.height} but page 0 is ${width}x${height}; all Z planes must have the same size`);
    }
  }

  const desc = await first.fd.loadValue("ImageDescription");
  // geotiff decodes ASCII fields as UTF-8 (as OME-XML is written) and keeps the NUL terminator.
  const text = typeof desc === "string" ? desc.replace(/\0+$/, "") : "";
  const meta = readMetadata(text, await resolution(first), planes.length, name);

  const shape: Shape3 = [planes.length, height, width];
  const bps = SAMPLE_BYTES[sample];
  // float64 samples are kept as float32 (VolMicro's widest float), and the caller is told.
  const dtype: DType = sample === "float64" ? "float32" : sample;
  const source: VolumeSource = {
    name, shape, dtype,
    read: async (box, signal) => {
      checkBox(box, shape, name);
      const [bz, by, bx] = boxShape(box);
      const planeBytes = by * bx * bps;
      const sink = new Uint8Array(planeBytes * bz);
      for (let z = 0; z < bz; z++) {
        signal?.throwIfAborted();
        await readWindow(planes[box.z0 + z]!, file, box, sink.subarray(z * planeBytes, (z + 1) * planeBytes), bps, name);
      }
      if (littleEndian !== HOST_LITTLE_ENDIAN && bps > 1) swapBytes(sink, bps);
      const data = sample === "float64" ? Float32Array.from(new Float64Array(sink.buffer)) : allocVoxels(dtype, sink.length / bps, sink.buffer);
      return { shape: [bz, by, bx], dtype, data, ...boxCalibration(source, box) };
    },
  };
  if (sample === "float64") source.convertedFrom = "float64";
  if (meta.voxelSize) source.voxelSize = meta.voxelSize;
  if (meta.unit) source.unit = meta.unit;
  if (meta.origin) source.origin = meta.origin;
  return source;
}

/** A TIFF page's sample type: a `DType`, or float64 (read, then converted). */
type SampleType = DType | "float64";

const SAMPLE_BYTES: Record<SampleType, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 };


/** Every page's tags, following the IFD chain; a loop or an absurd chain is a read error, not a hang. */
async function readPages(file: ByteRanges, name: string): Promise<Page[]> {
  const pages: Page[] = [];
  const size = file.size;
  try {
    // geotiff reads the directories it is asked for through this, a slice at a time
    const tif = await GeoTIFF.fromSource({
      fileSize: size,
      fetch: (slices: Array<{ offset: number; length: number }>) => Promise.all(slices.map(async (sl) => {
        const b = await file.read(sl.offset, sl.length);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      })),
      close: async () => {},
    } as never);
    const seen = new Set<number>();
    for (let i = 0; ; i++) {
      const fd = (await tif.getImage(i)).fileDirectory;
      pages.push(await pageOf(fd, i));
      const next = Number(fd.nextIFDByteOffset);
      if (next === 0) break;
      if (seen.has(next) || i > size / MIN_IFD_BYTES) throw new VolumeReadError(name, "corrupt TIFF: the chain of image directories loops");
      seen.add(next);
    }
  } catch (e) {
    if (e instanceof VolumeReadError) throw e;
    throw new VolumeReadError(name, `corrupt or truncated TIFF (${errText(e)})`, { cause: e });
  }
  return pages;
}

async function pageOf(fd: ImageFileDirectory, index: number): Promise<Page> {
  const num = async (tag: string, fallback: number): Promise<number> => {
    const v: unknown = await fd.loadValue(tag as never);
    const x = ArrayBuffer.isView(v) || Array.isArray(v) ? (v as ArrayLike<unknown>)[0] : v;
    return typeof x === "number" ? x : typeof x === "bigint" ? Number(x) : fallback;
  };
  const list = async (tag: string): Promise<ArrayLike<number | bigint>> => {
    const v: unknown = await fd.loadValue(tag as never);
    return typeof v === "number" || typeof v === "bigint" ? [v] : ((v ?? []) as ArrayLike<number | bigint>);
  };
  const tiled = fd.hasTag("TileOffsets");
  const width = await num("ImageWidth", 0), height = await num("ImageLength", 0);
  return {
    index, width, height, fd, tiled,
    bits: await num("BitsPerSample", 1),
    format: await num("SampleFormat", 1),
    samples: await num("SamplesPerPixel", 1),
    photometric: await num("PhotometricInterpretation", 1),
    compression: await num("Compression", 1),
    predictor: await num("Predictor", 1),
    orientation: await num("Orientation", 1),
    subfile: await num("NewSubfileType", 0),
    blockWidth: tiled ? await num("TileWidth", 0) : width,
    blockHeight: tiled ? await num("TileLength", 0) : Math.min(height, await num("RowsPerStrip", height) || height),
    offsets: await list(tiled ? "TileOffsets" : "StripOffsets"),
    counts: await list(tiled ? "TileByteCounts" : "StripByteCounts"),
  };
}

/** X/YResolution as pixels per unit (rationals arrive as numerator, denominator pairs). */
async function resolution(p: Page): Promise<{ x?: number; y?: number }> {
  const ratio = async (tag: string) => {
    const v = (await p.fd.loadValue(tag as never)) as ArrayLike<number> | undefined;
    const r = v && v.length >= 2 && v[1]! > 0 ? v[0]! / v[1]! : undefined;
    return r !== undefined && r > 0 && Number.isFinite(r) ? r : undefined;
  };
  const out: { x?: number; y?: number } = {};
  const x = await ratio("XResolution"), y = await ratio("YResolution");
  if (x !== undefined) out.x = x;
  if (y !== undefined) out.y = y;
  return out;
}

/**
 * The box's rows and columns of one page into `out` (still in the file's byte order): only the
 * strips or tiles they touch are read.
 */
async function readWindow(p: Page, file: ByteRanges, box: Box, out: Uint8Array, bps: number, name: string): Promise<void> {
  const across = Math.ceil(p.width / p.blockWidth), down = Math.ceil(p.height / p.blockHeight);
  if (p.offsets.length < across * down || p.counts.length < across * down) {
    throw new VolumeReadError(name, `page ${p.index} lists ${p.offsets.length} image blocks but its size needs ${across * down}`);
  }
  const rowBytes = p.blockWidth * bps;
  const decoder = p.compression === 1 ? undefined : await getDecoder(p.compression, {
    tileWidth: p.blockWidth, tileHeight: p.blockHeight, planarConfiguration: 1, bitsPerSample: p.bits, predictor: p.predictor,
  });
  const outWidth = box.x1 - box.x0;
  for (let by = Math.floor(box.y0 / p.blockHeight); by * p.blockHeight < box.y1; by++) {
    for (let bx = Math.floor(box.x0 / p.blockWidth); bx * p.blockWidth < box.x1; bx++) {
      const k = by * across + bx;
      const at = Number(p.offsets[k]!), n = Number(p.counts[k]!);
      const x0 = bx * p.blockWidth, y0 = by * p.blockHeight;
      const w = Math.min(p.blockWidth, p.width - x0), h = Math.min(p.blockHeight, p.height - y0);
      // edge tiles are padded, the last strip short
      const need = p.tiled ? (h - 1) * rowBytes + w * bps : h * rowBytes;
      // the block's rows the box needs
      const r0 = Math.max(0, box.y0 - y0), r1 = Math.min(h, box.y1 - y0);
      let block: Uint8Array, first: number;
      if (decoder) {
        try {
          block = new Uint8Array(await decoder.decode(sliceBuffer(await file.read(at, n))));
        } catch (e) {
          throw new VolumeReadError(name, `cannot decode page ${p.index} block ${k} (${COMPRESSION_NAMES[p.compression]}: ${errText(e)})`, { cause: e });
        }
        first = 0;
      } else {
        block = n < need ? new Uint8Array(0) : await file.read(at + r0 * rowBytes, (r1 - r0) * rowBytes);
        first = r0;
      }
      if ((decoder ? block.length : n) < need) {
        throw new VolumeReadError(name, `page ${p.index}: image block at row ${y0}, column ${x0} holds ${decoder ? block.length : n} bytes, expected ${p.tiled ? p.blockWidth * p.blockHeight * bps : need}`);
      }
      const c0 = Math.max(0, box.x0 - x0), c1 = Math.min(w, box.x1 - x0);
      for (let r = r0; r < r1; r++) {
        const src = (r - first) * rowBytes + c0 * bps;
        out.set(block.subarray(src, src + (c1 - c0) * bps), ((y0 + r - box.y0) * outWidth + x0 + c0 - box.x0) * bps);
      }
    }
  }
}

function sliceBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Why `bytes` do not start with a classic or BigTIFF header, or undefined when they do. */
function headerProblem(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength < 8) return "too short";
  const le = bytes[0] === 0x49 && bytes[1] === 0x49, be = bytes[0] === 0x4d && bytes[1] === 0x4d;
  if (!le && !be) return "bad byte-order mark";
  const magic = le ? bytes[2]! | (bytes[3]! << 8) : (bytes[2]! << 8) | bytes[3]!;
  if (magic !== 42 && magic !== 43) return "bad magic number";
  if (magic === 43 && bytes.byteLength < 16) return "BigTIFF header too short";
  return undefined;
}

/** Whether `bytes` start with a TIFF (classic or BigTIFF, either byte order), whatever the file is called. */
export function looksLikeTiff(bytes: Uint8Array): boolean {
  return headerProblem(bytes) === undefined;
}

/** Byte order of the file (true: little-endian); throws on anything that is not a TIFF. */
function checkHeader(bytes: Uint8Array, name: string): boolean {
  const problem = headerProblem(bytes);
  if (problem) throw new UnsupportedFormatError(name, `not a TIFF file (${problem})`);
  return bytes[0] === 0x49;
}

function pageDType(p: Page, name: string): SampleType {
  const { bits, format: fmt } = p;
  if (fmt === 1 && bits === 8) return "uint8";
  if (fmt === 1 && bits === 16) return "uint16";
  if (fmt === 2 && bits === 8) return "int8";
  if (fmt === 2 && bits === 16) return "int16";
  if (fmt === 3 && bits === 32) return "float32";
  if (fmt === 3 && bits === 64) return "float64";
  const kind = fmt === 3 ? "float" : fmt === 2 ? "int" : fmt === 1 ? "uint" : `sample-format-${fmt} `;
  throw new UnsupportedDTypeError(name, `${kind}${bits}`, `TIFF page ${p.index}; readable: 8/16-bit integer and 32/64-bit float greyscale`);
}

function checkPageLayout(p: Page, name: string, littleEndian: boolean): void {
  const i = p.index;
  if (p.samples !== 1) {
    throw new UnsupportedFormatError(name, `page ${i} has ${p.samples} samples per pixel (RGB or alpha); only single-channel greyscale stacks are supported`);
  }
  if (p.photometric === 3) throw new UnsupportedFormatError(name, `page ${i} is a palette-colour image; only greyscale is supported`);
  if (p.photometric !== 0 && p.photometric !== 1) {
    throw new UnsupportedFormatError(name, `page ${i} has photometric interpretation ${p.photometric}; only greyscale (0/1) is supported`);
  }
  if (p.photometric === 0 && p.format !== 1) {
    throw new UnsupportedFormatError(name, `page ${i} is WhiteIsZero with signed or float samples`);
  }
  if (!READABLE_COMPRESSIONS.has(p.compression)) {
    const label = COMPRESSION_NAMES[p.compression];
    throw new UnsupportedFeatureError(name, `TIFF compression ${label ? `${label} (${p.compression})` : p.compression}`,
      `page ${i}; readable: none, LZW, deflate, PackBits, ZSTD, LZMA`);
  }
  // geotiff undoes predictor 2 in host byte order, which is wrong for 16-bit big-endian samples.
  const predictorOk = p.predictor === 1 || (p.predictor === 2 && p.format !== 3 && (p.bits === 8 || (p.bits === 16 && littleEndian === HOST_LITTLE_ENDIAN)));
  if (!predictorOk) {
    throw new UnsupportedFeatureError(name, `TIFF predictor ${p.predictor}`, `page ${i}, ${p.bits}-bit ${littleEndian ? "little" : "big"}-endian samples`);
  }
  if (p.orientation !== 1) throw new UnsupportedFormatError(name, `page ${i} has TIFF orientation ${p.orientation}; only top-left (1) is supported`);
  if (p.tiled && !(p.blockWidth > 0 && p.blockHeight > 0)) throw new VolumeReadError(name, `page ${i} has an empty tile size ${p.blockWidth}x${p.blockHeight}`);
}

/** Strip/tile byte ranges must lie inside the input. */
function checkDataInside(p: Page, size: number, name: string): void {
  if (p.offsets.length === 0) throw new VolumeReadError(name, `page ${p.index} has no image data offsets`);
  for (let k = 0; k < p.offsets.length; k++) {
    const end = Number(p.offsets[k]!) + Number(p.counts[k] ?? 0);
    if (!(end <= size)) throw new VolumeReadError(name, `truncated TIFF: page ${p.index} image data ends at byte ${end} but the file has ${size} bytes`);
  }
}

interface StackMeta { voxelSize?: [number, number, number]; unit?: string; origin?: [number, number, number] }

/**
 * Physical voxel size, origin and stack sanity from the first page's description: OME-XML,
 * ImageJ, or tifffile's JSON. The XY size of ImageJ files comes from X/YResolution (pixels per
 * unit). Plain TIFFs only carry X/YResolution; a Z spacing is then unknown and we do not guess
 * one, and inch-based resolution is ignored (72 dpi is a common non-physical default).
 */
function readMetadata(text: string, res: { x?: number; y?: number }, nPlanes: number, name: string): StackMeta {
  if (text.includes("<OME")) return omeMeta(text, name);
  if (text.startsWith("ImageJ=")) return imageJMeta(text, res, nPlanes, name);
  if (text.startsWith("{")) tifffileCheck(text, name);
  return {};
}

function imageJMeta(text: string, res: { x?: number; y?: number }, nPlanes: number, name: string): StackMeta {
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
  // 12 significant digits undo the rounding of 1/(num/den).
  const size = (r: number | undefined) => (r !== undefined ? Number((1 / r).toPrecision(12)) : undefined);
  const x = size(res.x) ?? 1;
  const y = size(res.y) ?? x;
  const zs = Number.parseFloat(kv.get("spacing") ?? "");
  const z = Number.isFinite(zs) && zs > 0 ? zs : 1; // ImageJ's own default depth
  const meta: StackMeta = { voxelSize: [z, y, x], unit };
  // ImageJ's origin is in pixels: physical position = (index - origin) × voxel size.
  const o = ["zorigin", "yorigin", "xorigin"].map((k) => Number.parseFloat(kv.get(k) ?? "0"));
  if (o.every(Number.isFinite) && o.some((v) => v !== 0)) meta.origin = [-o[0]! * z, -o[1]! * y, -o[2]! * x];
  return meta;
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
  const meta: StackMeta = { voxelSize: [z.v, y.v, x.v], unit: x.unit };
  const origin = omeOrigin(xml, x.unit);
  if (origin) meta.origin = origin;
  return meta;
}

/** The first plane's stage position (`<Plane PositionX=… PositionXUnit=…>`), in `unit`. */
function omeOrigin(xml: string, unit: string): [number, number, number] | undefined {
  const plane = /<(?:\w+:)?Plane\b([^>]*)>/.exec(xml)?.[1];
  if (!plane) return undefined;
  const attr = (k: string) => new RegExp(`\\b${k}="([^"]*)"`).exec(plane)?.[1];
  const pos = (a: string) => {
    const v = Number.parseFloat(attr(`Position${a}`) ?? "0");
    const f = unitFactor(normaliseUnit(attr(`Position${a}Unit`) ?? "µm") ?? "", unit);
    return Number.isFinite(v) && f !== undefined ? v * f : NaN;
  };
  const o: [number, number, number] = [pos("Z"), pos("Y"), pos("X")];
  return o.every(Number.isFinite) && o.some((v) => v !== 0) ? o : undefined;
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
