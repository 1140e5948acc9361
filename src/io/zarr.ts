/**
 * Zarr v2/v3 arrays and OME-Zarr (0.4 and 0.5) multiscale images <-> `Volume`, over any zarrita
 * store (`HttpStore` for http(s), a filesystem store in Node, a `Map` in memory).
 *
 * Reading: a plain array at the given location, or an OME-Zarr group whose finest level (or
 * `level`) is opened; a bioformats2raw root (a group holding images "0/", "1/", …) opens its
 * first image. Metadata is probed as zarr v3 (`zarr.json`), then v2 (`.zarray`/`.zgroup`), then
 * v2 consolidated metadata (`.zmetadata`). Non-spatial axes (t, c) must have length 1 and are
 * dropped; a 2D (y, x) array reads as one plane. The voxel types in `DType` are read as they
 * are; float64 is converted to float32 (`convertedFrom` says so, for callers to tell the user);
 * other types (int64, bool, …) are refused.
 *
 * Missing chunks read as the fill value, as zarr specifies (zarr-python 3 skips all-fill
 * chunks by default; sparse neuron volumes are mostly empty). `strict` refuses them instead
 * (`MissingChunkError` naming the first absent key), for checking that a copied store is whole.
 *
 * Browser-safe: no `node:` imports.
 */
import * as zarr from "zarrita";
import type { AbsolutePath, Readable, RangeQuery } from "zarrita";
import type { Box } from "../core/background.js";
import type { DType, VoxelArray } from "../core/dtype.js";
import { allocVoxels, isDType } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import {
  MissingChunkError, NotAVolumeError, UnsupportedDTypeError, UnsupportedFormatError, VolumeReadError, VolumeWriteError,
} from "./errors.js";
import { boxCalibration, boxShape, checkBox, wholeBox, type VolumeSource } from "./region.js";
import { normaliseUnit, unitFactor } from "./units.js";

export interface ZarrOpenOptions {
  /** Multiscale level of an OME-Zarr group (0 = finest, the default). */
  level?: number;
  /** Path of the array or group inside the store (default: the store root). */
  path?: string;
  /** Refuse absent chunks (`MissingChunkError`) instead of reading them as the fill value. */
  strict?: boolean;
}

export interface ZarrLevelInfo {
  /** Array path inside the store, e.g. "/0". */
  path: string;
  shape: Shape3;
  voxelSize?: [number, number, number];
}

/** A zarr array as a `VolumeSource` (origin: the OME-Zarr translation of the chosen level). */
export interface ZarrVolumeSource extends VolumeSource {
  /** Chunk shape of the chosen array along z, y, x. */
  chunks: Shape3;
  zarrFormat: 2 | 3;
  /** Index into `levels` of the array being read (0 for a plain array). */
  level: number;
  /** All levels of an OME-Zarr image (finest first); one entry for a plain array. */
  levels: ZarrLevelInfo[];
  /** The whole array, or a half-open z/y/x sub-box of it (only the chunks it touches are read). */
  read(box?: Box, signal?: AbortSignal): Promise<Volume>;
}

const METADATA_KEYS = new Set(["zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"]);

/**
 * Wraps a store so that, once an array is opened with `strict`, a read of one of its chunk keys
 * that finds nothing throws instead of letting zarrita substitute the fill value. Metadata probes
 * during `open` (which legitimately miss) happen before `guard` is called.
 */
class ChunkGuardStore {
  private readonly prefixes: string[] = [];
  getRange?: (key: AbsolutePath, range: RangeQuery, opts?: { signal?: AbortSignal }) => Promise<Uint8Array | undefined>;

  constructor(private readonly inner: Readable, private readonly name: string) {
    const getRange = inner.getRange?.bind(inner);
    // Sharded arrays need getRange; only offer it when the wrapped store has it.
    if (getRange) {
      this.getRange = async (key, range, opts) => this.check(key, await getRange(key, range, opts));
    }
  }

  async get(key: AbsolutePath, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> {
    return this.check(key, await this.inner.get(key, opts));
  }

  /** Treat keys below this array path (other than metadata) as chunks that must exist. */
  guard(arrayPath: string): void {
    this.prefixes.push(arrayPath.endsWith("/") ? arrayPath : `${arrayPath}/`);
  }

  private check(key: string, value: Uint8Array | undefined): Uint8Array | undefined {
    if (value !== undefined) return value;
    const base = key.slice(key.lastIndexOf("/") + 1);
    if (!METADATA_KEYS.has(base) && this.prefixes.some((p) => key.startsWith(p))) {
      throw new MissingChunkError(this.name, key.replace(/^\//, ""));
    }
    return value;
  }
}

type AnyArray = zarr.Array<zarr.DataType, Readable>;

interface AxisMap {
  /** Index of the z, y, x axes in the array's dimensions; z is -1 for a 2D array. */
  z: number; y: number; x: number;
  rank: number;
}

interface OmeAxis { name: string; type?: string; unit?: string }

interface OmeTransform { type: string; scale?: number[]; translation?: number[]; path?: string }

interface OmeMultiscale {
  axes?: (OmeAxis | string)[];
  datasets: { path: string; coordinateTransformations?: OmeTransform[] }[];
  coordinateTransformations?: OmeTransform[];
}

export async function openZarrVolume(
  store: Readable, name: string, opts: ZarrOpenOptions = {},
): Promise<ZarrVolumeSource> {
  const guarded = new ChunkGuardStore(store, name);
  const relative = (opts.path ?? "").replace(/^\/+/, "");
  let { node, format } = await openNode(guarded as Readable, relative, name);

  let arrays: AnyArray[];
  let multiscale: OmeMultiscale | undefined;
  if (!(node instanceof zarr.Array) && !findMultiscale(node.attrs) && isBioformats2raw(node.attrs)) {
    ({ node, format } = await openNode(guarded as Readable, `${relative ? `${relative}/` : ""}0`, name)); // its first image
  }
  if (node instanceof zarr.Array) {
    arrays = [node];
  } else {
    multiscale = findMultiscale(node.attrs);
    if (!multiscale) {
      throw new UnsupportedFormatError(name, `zarr group${node.path === "/" ? "" : ` ${node.path}`} has no OME-Zarr multiscales metadata; give the path of an array inside it`);
    }
    const group = node;
    arrays = await Promise.all(multiscale.datasets.map(async (ds) => {
      const child = await openLocation(group.resolve(ds.path), name);
      if (!(child.node instanceof zarr.Array)) throw new UnsupportedFormatError(name, `OME-Zarr dataset ${ds.path} is not an array`);
      return child.node;
    }));
    if (arrays.length === 0) throw new NotAVolumeError(name, "OME-Zarr multiscales lists no datasets");
  }

  const level = opts.level ?? 0;
  if (!Number.isInteger(level) || level < 0 || level >= arrays.length) {
    throw new VolumeReadError(name, `level ${level} does not exist (the image has ${arrays.length === 1 ? "only level 0" : `levels 0..${arrays.length - 1}`})`);
  }
  const arr = arrays[level]!;
  const stored = arr.dtype as string;
  const dtype: DType | undefined = stored === "float64" ? "float32" : isDType(stored) ? stored : undefined;
  if (!dtype) {
    throw new UnsupportedDTypeError(name, stored, "readable: uint8/16/32, int8/16/32, float32, float64 (read as float32)");
  }

  const axes = multiscale?.axes?.length === arr.shape.length ? multiscale.axes.map(toAxis) : undefined;
  const names = axes?.map((a) => a.name) ?? arr.dimensionNames;
  const map = axisMap(arr.shape, names, axes, name);
  const physical = axes ? physicalUnit(axes, map) : undefined;
  const levels: ZarrLevelInfo[] = arrays.map((a, i) => {
    const m = axisMap(a.shape, names, axes, name);
    const info: ZarrLevelInfo = { path: a.path, shape: spatialShape(a.shape, m) };
    const vs = multiscale && axes ? levelScale(multiscale, i, m) : undefined;
    // All axes in the x axis's unit.
    const f = physical?.factors ?? [1, 1, 1];
    if (vs) info.voxelSize = [vs[0] * f[0], vs[1] * f[1], vs[2] * f[2]];
    return info;
  });
  const shape = levels[level]!.shape;
  const voxelSize = levels[level]!.voxelSize;
  const unit = voxelSize ? physical?.unit : undefined;
  const translation = multiscale && axes ? levelTranslation(multiscale, level, map) : undefined;
  const f = physical?.factors ?? [1, 1, 1];
  const origin = translation ? translation.map((t, k) => t * f[k]!) as [number, number, number] : undefined;
  const chunks = spatialShape(arr.chunks, map);

  if (opts.strict) guarded.guard(arr.path);

  const source: ZarrVolumeSource = {
    name, shape, dtype, chunks, zarrFormat: format, level, levels,
    read: async (box, signal) => {
      const b = box ?? wholeBox(shape);
      const v = await readBox(arr, map, shape, dtype, b, name, signal);
      return Object.assign(v, boxCalibration(source, b));
    },
  };
  if (stored === "float64") source.convertedFrom = "float64";
  if (voxelSize) source.voxelSize = voxelSize;
  if (unit) source.unit = unit;
  if (origin) source.origin = origin;
  return source;
}

/** bioformats2raw's layout marks its root group; the images are groups "0", "1", … inside it. */
function isBioformats2raw(attrs: Record<string, unknown>): boolean {
  const ome = attrs["ome"] as Record<string, unknown> | undefined;
  return attrs["bioformats2raw.layout"] !== undefined || ome?.["bioformats2raw.layout"] !== undefined;
}

/**
 * The node at `path` of the store: zarr v3, then v2, then (when neither has metadata there)
 * v2 consolidated metadata at the store root.
 */
async function openNode(store: Readable, path: string, name: string): Promise<{ node: AnyArray | zarr.Group<Readable>; format: 2 | 3 }> {
  const at = (s: Readable) => (path ? zarr.root(s).resolve(path) : zarr.root(s));
  try {
    return await openLocation(at(store), name);
  } catch (e) {
    if (!(e instanceof UnsupportedFormatError && e.problem.startsWith("no zarr array or group"))) throw e;
    let consolidated: Readable;
    try {
      consolidated = await zarr.withConsolidatedMetadata(store as never, { format: "v2" }) as Readable;
    } catch (c) {
      if (c instanceof VolumeReadError) throw c;
      throw e; // no .zmetadata either: report the first miss
    }
    return { node: await zarr.open.v2(at(consolidated)).catch((c: unknown) => { throw wrapZarrError(c, name, "cannot open zarr v2 consolidated metadata"); }), format: 2 };
  }
}

async function openLocation(loc: zarr.Location<Readable>, name: string): Promise<{ node: AnyArray | zarr.Group<Readable>; format: 2 | 3 }> {
  try {
    return { node: await zarr.open.v3(loc), format: 3 };
  } catch (e) {
    if (!isNotFound(e)) throw wrapZarrError(e, name, "cannot open zarr v3 metadata");
  }
  try {
    return { node: await zarr.open.v2(loc), format: 2 };
  } catch (e) {
    if (isNotFound(e)) {
      throw new UnsupportedFormatError(name, `no zarr array or group at ${loc.path} (found no zarr.json, .zarray or .zgroup)`);
    }
    throw wrapZarrError(e, name, "cannot open zarr v2 metadata");
  }
}

function isNotFound(e: unknown): boolean {
  return zarr.isZarritaError(e, "NotFoundError");
}

function wrapZarrError(e: unknown, name: string, what: string): Error {
  if (e instanceof VolumeReadError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (zarr.isZarritaError(e, "UnknownCodecError") || zarr.isZarritaError(e, "UnsupportedError")) {
    return new UnsupportedFormatError(name, `${what}: ${msg}`, { cause: e });
  }
  return new VolumeReadError(name, `${what}: ${msg}`, { cause: e });
}

/** OME 0.5 keeps multiscales under `ome`; 0.4 and earlier at the top level of the attributes. */
function findMultiscale(attrs: Record<string, unknown>): OmeMultiscale | undefined {
  const ome = attrs["ome"] as { multiscales?: unknown } | undefined;
  const list = (ome?.multiscales ?? attrs["multiscales"]) as unknown;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const ms = list[0] as OmeMultiscale;
  return Array.isArray(ms.datasets) ? ms : undefined;
}

function toAxis(a: OmeAxis | string): OmeAxis {
  return typeof a === "string" ? { name: a } : a;
}

const SPACE_NAMES = new Set(["z", "y", "x"]);

/**
 * Which dimensions are z, y, x. With OME axes, the "space" axes (by type or name); else the last
 * three (or two) dimensions. Every other dimension must have length 1.
 */
function axisMap(shape: number[], names: string[] | undefined, axes: OmeAxis[] | undefined, name: string): AxisMap {
  const rank = shape.length;
  if (rank < 2) throw new NotAVolumeError(name, `zarr array has ${rank} dimension${rank === 1 ? "" : "s"}; expected 3 (z, y, x) or 2 (y, x)`);
  let spatial: number[];
  if (axes) {
    spatial = axes.flatMap((a, i) => (a.type === "space" || (a.type === undefined && SPACE_NAMES.has(a.name.toLowerCase())) ? [i] : []));
  } else {
    spatial = rank >= 3 ? [rank - 3, rank - 2, rank - 1] : [0, 1];
  }
  if (spatial.length < 2 || spatial.length > 3) throw new NotAVolumeError(name, `expected 2 or 3 spatial axes, found ${spatial.length}`);
  if (names && names.length === rank) {
    const got = spatial.map((i) => (names[i] ?? "").toLowerCase());
    const want = spatial.length === 3 ? ["z", "y", "x"] : ["y", "x"];
    if (got.every((n) => SPACE_NAMES.has(n)) && got.join() !== want.join()) {
      throw new UnsupportedFormatError(name, `spatial axes are ordered ${got.join(",")}; only ${want.join(",")} order is supported`);
    }
  }
  shape.forEach((n, i) => {
    if (!spatial.includes(i) && n !== 1) {
      const label = names?.[i] ? `'${names[i]}'` : `${i}`;
      throw new NotAVolumeError(name, `axis ${label} has length ${n}; only single-channel, single-timepoint volumes are supported`);
    }
  });
  spatial.forEach((i) => {
    if (!(shape[i]! > 0)) throw new NotAVolumeError(name, `empty array (shape ${shape.join("x")})`);
  });
  return spatial.length === 3
    ? { z: spatial[0]!, y: spatial[1]!, x: spatial[2]!, rank }
    : { z: -1, y: spatial[0]!, x: spatial[1]!, rank };
}

function spatialShape(full: number[], m: AxisMap): Shape3 {
  return [m.z < 0 ? 1 : full[m.z]!, full[m.y]!, full[m.x]!];
}

/** Voxel size of level i: the dataset's scale times the multiscale-wide scale, if any. */
function levelScale(ms: OmeMultiscale, i: number, m: AxisMap): [number, number, number] | undefined {
  const scales = [ms.datasets[i]?.coordinateTransformations, ms.coordinateTransformations]
    .map((ts) => ts?.find((t) => t.type === "scale" && Array.isArray(t.scale))?.scale);
  if (!scales[0]) return undefined;
  const at = (k: number) => (k < 0 ? 1 : (scales[0]![k] ?? NaN) * (scales[1]?.[k] ?? 1));
  const vs: [number, number, number] = [at(m.z), at(m.y), at(m.x)];
  return vs.every((v) => Number.isFinite(v) && v > 0) ? vs : undefined;
}

/** Translation of level i (the dataset's, mapped through the multiscale-wide scale and translation). */
function levelTranslation(ms: OmeMultiscale, i: number, m: AxisMap): [number, number, number] | undefined {
  const find = (ts: OmeTransform[] | undefined, type: string, key: "scale" | "translation") =>
    ts?.find((t) => t.type === type && Array.isArray(t[key]))?.[key];
  const local = find(ms.datasets[i]?.coordinateTransformations, "translation", "translation");
  const globalScale = find(ms.coordinateTransformations, "scale", "scale");
  const global = find(ms.coordinateTransformations, "translation", "translation");
  if (!local && !global) return undefined;
  const at = (k: number) => (k < 0 ? 0 : (local?.[k] ?? 0) * (globalScale?.[k] ?? 1) + (global?.[k] ?? 0));
  const t: [number, number, number] = [at(m.z), at(m.y), at(m.x)];
  return t.every(Number.isFinite) && t.some((v) => v !== 0) ? t : undefined; // 0 is the default: no origin stated
}

/** The x axis's unit, with factors converting z and y into it when their units differ. */
function physicalUnit(axes: OmeAxis[], m: AxisMap): { unit?: string; factors?: [number, number, number] } {
  const u = (k: number) => (k < 0 ? undefined : normaliseUnit(axes[k]?.unit ?? ""));
  const ux = u(m.x);
  if (!ux) return {};
  const f = (k: number) => {
    const uk = u(k);
    if (k < 0 || uk === undefined || uk === ux) return 1;
    return unitFactor(uk, ux) ?? NaN;
  };
  const factors: [number, number, number] = [f(m.z), f(m.y), 1];
  return factors.every(Number.isFinite) ? { unit: ux, factors } : {};
}

async function readBox(arr: AnyArray, m: AxisMap, shape: Shape3, dtype: DType, b: Box, name: string, signal: AbortSignal | undefined): Promise<Volume> {
  checkBox(b, shape, name);
  const selection: (zarr.Slice | number)[] = Array.from({ length: m.rank }, () => 0);
  if (m.z >= 0) selection[m.z] = zarr.slice(b.z0, b.z1);
  selection[m.y] = zarr.slice(b.y0, b.y1);
  selection[m.x] = zarr.slice(b.x0, b.x1);

  let chunk: { data: unknown; shape: number[]; stride: number[] };
  try {
    chunk = await zarr.get(arr, selection, signal ? { opts: { signal } } : {}) as typeof chunk;
  } catch (e) {
    throw wrapZarrError(e, name, "cannot read zarr chunk data");
  }
  const out = boxShape(b);
  if (chunk.data instanceof Float64Array) chunk = { ...chunk, data: Float32Array.from(chunk.data) };
  return { shape: out, dtype, data: toCOrder(chunk, out, dtype) };
}

/** zarrita returns data in the array's native order (F for `order: "F"`); make it x-fastest. */
function toCOrder(chunk: { data: unknown; shape: number[]; stride: number[] }, shape: Shape3, dtype: DType): VoxelArray {
  const src = chunk.data as VoxelArray;
  const st = chunk.stride.length === 3 ? chunk.stride : [0, ...chunk.stride];
  const [nz, ny, nx] = shape;
  const [sz, sy, sx] = st as [number, number, number];
  if ((nz === 1 || sz === ny * nx) && (ny === 1 || sy === nx) && (nx === 1 || sx === 1) && src.length === nz * ny * nx) return src;
  const dst = allocVoxels(dtype, nz * ny * nx);
  let o = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const base = z * sz + y * sy;
      for (let x = 0; x < nx; x++) dst[o++] = src[base + x * sx]!;
    }
  }
  return dst;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** A store zarrita can write to (`set` may be sync or async). */
export interface WritableStore {
  set(key: AbsolutePath, value: Uint8Array): Promise<void> | void;
}

export interface ZarrWriteOptions {
  /** Chunk shape [z, y, x]; default 64x128x128 clipped to the volume. */
  chunks?: [number, number, number];
  /** "gzip" (default: zarrita decodes it; we encode with the standard CompressionStream) or "none". */
  compression?: "gzip" | "none";
  /** OME-Zarr image name (a SHOULD field; "image" when not given). */
  name?: string;
  /** 3 (default): zarr v3 with OME-Zarr 0.5 attributes; 2: zarr v2 with OME-Zarr 0.4, for older readers. */
  zarrFormat?: 2 | 3;
  /** How the levels were made (OME `type` and `metadata`, SHOULD fields). */
  downscaling?: { type: string; metadata: Record<string, unknown> };
}

/** What our levels are when the caller does not say: analytic scales of a Gaussian volume. */
const DEFAULT_DOWNSCALING = {
  type: "gaussian",
  metadata: {
    description: "decoded from a .vmg Gaussian volume; coarser scales widen each Gaussian by the coarse voxel's footprint",
    method: "volmicro vmg decode",
  },
};

/**
 * Write `volume` as an OME-Zarr image: a group at the store root whose attributes carry the
 * voxel size, unit and origin, with the array itself at "0". (A bare array at the root has no
 * standard place for physical voxel size; viewers read it from the group.) `openZarrVolume`
 * reads the result back.
 */
export async function writeZarrV3(store: WritableStore, volume: Volume, opts: ZarrWriteOptions = {}): Promise<void> {
  await writeOmeZarrMultiscale(store, [volume], opts);
}

/**
 * Write an OME-Zarr multiscale image (0.5 over zarr v3, or 0.4 over zarr v2): `levels[i]` at
 * path "i", finest first (the caller downsamples). A level's voxel size is its own `voxelSize`,
 * else level 0's scaled by the shape ratio; its translation is its own `origin`, else level 0's.
 */
export async function writeOmeZarrMultiscale(store: WritableStore, levels: Volume[], opts: ZarrWriteOptions = {}): Promise<void> {
  const base = levels[0];
  if (!base) throw new VolumeWriteError("zarr output", "no levels to write");
  const format = opts.zarrFormat ?? 3;
  const unit = normaliseUnit(base.unit ?? "");
  const knownUnit = unit !== undefined && unitFactor(unit, "meter") !== undefined ? unit : undefined;
  const v0 = base.voxelSize ?? [1, 1, 1];
  const datasets = levels.map((lv, i) => {
    if (lv.dtype !== base.dtype) throw new VolumeWriteError("zarr output", `level ${i} is ${lv.dtype} but level 0 is ${base.dtype}`);
    const scale = lv.voxelSize ?? v0.map((v, k) => (v * base.shape[k]!) / lv.shape[k]!);
    const origin = lv.origin ?? base.origin;
    const transforms: OmeTransform[] = [{ type: "scale", scale: [...scale] }];
    if (origin && origin.some((o) => o !== 0)) transforms.push({ type: "translation", translation: [...origin] });
    return { path: String(i), coordinateTransformations: transforms };
  });
  const axes = ["z", "y", "x"].map((n) => (knownUnit ? { name: n, type: "space", unit: knownUnit } : { name: n, type: "space" }));
  const { type, metadata } = opts.downscaling ?? DEFAULT_DOWNSCALING;
  const multiscale: Record<string, unknown> = { name: opts.name ?? "image", axes, datasets, type, metadata };
  if (format === 3) {
    await store.set("/zarr.json", json({
      zarr_format: 3, node_type: "group",
      attributes: { ome: { version: "0.5", multiscales: [multiscale] } },
    }));
    for (let i = 0; i < levels.length; i++) await writeZarrArrayV3(store, `/${i}`, levels[i]!, opts);
  } else {
    await store.set("/.zgroup", json({ zarr_format: 2 }));
    await store.set("/.zattrs", json({ multiscales: [{ version: "0.4", ...multiscale }] }));
    for (let i = 0; i < levels.length; i++) await writeZarrArrayV2(store, `/${i}`, levels[i]!, opts);
  }
}

/** Checked chunk shape and compression of an array write. */
function arrayLayout(path: string, volume: Volume, opts: ZarrWriteOptions): { chunks: Shape3; gzip: boolean; dir: string } {
  const [nz, ny, nx] = volume.shape;
  const target = `zarr array ${path}`;
  if (!(nz >= 1 && ny >= 1 && nx >= 1)) throw new VolumeWriteError(target, `empty volume shape ${volume.shape.join("x")}`);
  if (volume.data.length !== nz * ny * nx) throw new VolumeWriteError(target, `data has ${volume.data.length} voxels, shape needs ${nz * ny * nx}`);
  const want = opts.chunks ?? [64, 128, 128];
  if (!want.every((c) => Number.isInteger(c) && c >= 1)) throw new VolumeWriteError(target, `invalid chunk shape ${want.join("x")}`);
  const chunks: Shape3 = [Math.min(want[0], nz), Math.min(want[1], ny), Math.min(want[2], nx)];
  return { chunks, gzip: (opts.compression ?? "gzip") === "gzip", dir: path === "/" ? "" : path.replace(/\/+$/, "") };
}

/** A plain zarr v3 array (dimension names z, y, x) at `path` ("/" for the store root). */
export async function writeZarrArrayV3(store: WritableStore, path: string, volume: Volume, opts: ZarrWriteOptions = {}): Promise<void> {
  const { chunks, gzip, dir } = arrayLayout(path, volume, opts);
  await store.set(`${dir}/zarr.json` as AbsolutePath, zarrV3ArrayMetadata(volume.shape, volume.dtype, chunks, gzip ? 6 : undefined));
  await writeChunks(store, volume, chunks, gzip, (iz, iy, ix) => `${dir}/c/${iz}/${iy}/${ix}`);
}

/** zarr.json of a plain v3 array (fill value 0, "/" chunk keys under `c/`), gzip at `gzipLevel` or uncompressed. */
export function zarrV3ArrayMetadata(shape: Shape3, dtype: DType, chunks: Shape3, gzipLevel: number | undefined): Uint8Array {
  const codecs: unknown[] = [{ name: "bytes", configuration: { endian: "little" } }];
  if (gzipLevel !== undefined) codecs.push({ name: "gzip", configuration: { level: gzipLevel } });
  return json({
    zarr_format: 3, node_type: "array", shape: [...shape], data_type: dtype,
    chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: 0, codecs, dimension_names: ["z", "y", "x"], attributes: {},
  });
}

/** numpy's little-endian type strings, as zarr v2 metadata names them. */
const V2_DTYPE: Record<DType, string> = { uint8: "|u1", int8: "|i1", uint16: "<u2", int16: "<i2", uint32: "<u4", int32: "<i4", float32: "<f4" };

/** A zarr v2 array at `path`: C order, "/" chunk keys, numcodecs gzip (what zarr-python 2 reads). */
export async function writeZarrArrayV2(store: WritableStore, path: string, volume: Volume, opts: ZarrWriteOptions = {}): Promise<void> {
  const { chunks, gzip, dir } = arrayLayout(path, volume, opts);
  await store.set(`${dir}/.zarray` as AbsolutePath, json({
    zarr_format: 2, shape: [...volume.shape], chunks, dtype: V2_DTYPE[volume.dtype],
    compressor: gzip ? { id: "gzip", level: 6 } : null, fill_value: 0, order: "C", filters: null, dimension_separator: "/",
  }));
  await store.set(`${dir}/.zattrs` as AbsolutePath, json({ _ARRAY_DIMENSIONS: ["z", "y", "x"] }));
  await writeChunks(store, volume, chunks, gzip, (iz, iy, ix) => `${dir}/${iz}/${iy}/${ix}`);
}

/** Every chunk of the regular grid, full-size (edge chunks padded with the fill value 0), C order. */
async function writeChunks(store: WritableStore, volume: Volume, chunks: Shape3, gzip: boolean, key: (iz: number, iy: number, ix: number) => string): Promise<void> {
  const [nz, ny, nx] = volume.shape;
  const [cz, cy, cx] = chunks;
  const buf = allocVoxels(volume.dtype, cz * cy * cx);
  const src = volume.data;
  for (let iz = 0; iz * cz < nz; iz++) {
    for (let iy = 0; iy * cy < ny; iy++) {
      for (let ix = 0; ix * cx < nx; ix++) {
        buf.fill(0);
        const z0 = iz * cz, y0 = iy * cy, x0 = ix * cx;
        const w = Math.min(cx, nx - x0);
        for (let z = 0; z < Math.min(cz, nz - z0); z++) {
          for (let y = 0; y < Math.min(cy, ny - y0); y++) {
            const s = ((z0 + z) * ny + (y0 + y)) * nx + x0;
            buf.set(src.subarray(s, s + w) as never, (z * cy + y) * cx);
          }
        }
        let bytes = littleEndianBytes(buf);
        if (gzip) bytes = await gzipBytes(bytes);
        await store.set(key(iz, iy, ix) as AbsolutePath, bytes);
      }
    }
  }
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A fresh little-endian byte copy (stores may keep the buffer). */
export function littleEndianBytes(a: VoxelArray): Uint8Array {
  const bytes = new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  const w = a.BYTES_PER_ELEMENT;
  if (!HOST_LITTLE_ENDIAN && w > 1) for (let i = 0; i < bytes.length; i += w) bytes.subarray(i, i + w).reverse();
  return bytes;
}

async function gzipBytes(b: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([b as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function json(o: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(o, null, 2));
}
