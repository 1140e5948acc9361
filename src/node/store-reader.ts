/**
 * Reading a Gaussian store (docs/vmg-zarr-codec.md) from a directory through zarrita, with the
 * codec registered: its levels, their chunk and shard shapes and bytes, and any box of any level.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { isRunFile, MANIFEST_NAME, planStaging, STAGING_NAME, type RunManifest } from "../store/manifest.js";
import { join } from "node:path";
import type { Box } from "../core/background.js";
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import { VmgFormatError } from "../format/errors.js";
import { UnsupportedFormatError, VolumeReadError } from "../io/errors.js";
import { GAUSSIAN_CODEC_NAME, parseConfig, type GaussianCodecConfig } from "../store/codec/config.js";
import { gaussianCodec, levelPaths, type ArrayJson } from "../store/metadata.js";
import { registerGaussianCodec } from "../store/codec/zarrita-codec.js";
import type { ZarrVolumeSource } from "../io/zarr.js";
import { openZarrSource } from "./open-volume.js";
import { planId } from "./store-run.js";

export interface StoreLevelInfo {
  path: string;
  shape: Shape3;
  chunks: Shape3;
  shards: Shape3;
  voxelSize?: [number, number, number];
  /** Bytes of the level's files (zarr.json and shards). */
  bytes: number;
  shardFiles: number;
}

export interface GaussianStoreInfo {
  dtype: string;
  unit?: string;
  origin?: [number, number, number];
  config: GaussianCodecConfig;
  levels: StoreLevelInfo[];
  /** Every file of the store. */
  bytes: number;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * True when `path` is a directory holding an OME-Zarr image whose first level uses the Gaussian
 * codec; a store whose run is unfinished (a manifest, no root zarr.json yet) is refused by name.
 */
export async function isGaussianStore(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isDirectory()) return false;
  } catch {
    return false;
  }
  if (!existsSync(join(path, "zarr.json")) && existsSync(join(path, MANIFEST_NAME))) {
    throw new VolumeReadError(path, `is a store still being written (${MANIFEST_NAME}, no zarr.json yet; ${await runProgress(path)}): finish it with vmg compress … --resume or the remaining --blocks tasks`);
  }
  const first = levelPaths(await readJson(join(path, "zarr.json")))?.[0];
  return first !== undefined && gaussianCodec(((await readJson(join(path, first, "zarr.json"))) ?? {}) as ArrayJson) !== undefined;
}

/** "k of n chunks staged" for an unfinished run (store-run.ts), from its staging area and manifest. */
async function runProgress(path: string): Promise<string> {
  const m = (await readJson(join(path, MANIFEST_NAME))) as RunManifest | undefined;
  if (!m || !Number.isInteger(m.jobs?.count)) return "its manifest lists no jobs";
  // the plan's chunks lie in one folder per level; temporaries in "tmp" (Dirent.parentPath needs Node 20.12, so no recursive listing)
  const staging = join(path, planStaging(planId(m)));
  let done = 0;
  for (const level of await readdir(staging, { withFileTypes: true }).catch(() => [])) {
    if (level.isDirectory() && /^\d+$/.test(level.name)) done += (await readdir(join(staging, level.name))).length;
  }
  return `${done} of ${m.jobs.count} chunks staged`;
}

/** Bytes and files under `dir`, the run's manifest, job table and staging area aside (a record of how it was written, not the store's data). */
async function treeBytes(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0, files = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (isRunFile(e.name) || e.name === STAGING_NAME) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) { const t = await treeBytes(p); bytes += t.bytes; files += t.files; }
    else { bytes += (await stat(p)).size; files++; }
  }
  return { bytes, files };
}

export async function gaussianStoreInfo(path: string): Promise<GaussianStoreInfo> {
  registerGaussianCodec();
  const paths = levelPaths(await readJson(join(path, "zarr.json")));
  if (!paths?.length) throw new UnsupportedFormatError(path, "has no OME-Zarr multiscales in its zarr.json");
  const source = await openZarrSource(path);
  let config: GaussianCodecConfig | undefined, dtype = "";
  const levels: StoreLevelInfo[] = [];
  for (let i = 0; i < paths.length; i++) {
    const a = ((await readJson(join(path, paths[i]!, "zarr.json"))) ?? {}) as ArrayJson;
    const codec = gaussianCodec(a);
    if (!codec) throw new UnsupportedFormatError(path, `level ${paths[i]} does not use the ${GAUSSIAN_CODEC_NAME} codec`);
    config ??= parseConfig(codec.config);
    dtype = a.data_type ?? "";
    const t = await treeBytes(join(path, paths[i]!));
    const lv = source.levels[i]!;
    const info: StoreLevelInfo = {
      path: paths[i]!, shape: lv.shape, chunks: codec.chunks as unknown as Shape3,
      shards: (a.chunk_grid?.configuration?.chunk_shape ?? []) as unknown as Shape3, bytes: t.bytes, shardFiles: t.files - 1,
    };
    if (lv.voxelSize) info.voxelSize = lv.voxelSize;
    levels.push(info);
  }
  const info: GaussianStoreInfo = { dtype, config: config!, levels, bytes: (await treeBytes(path)).bytes };
  if (source.unit) info.unit = source.unit;
  if (source.origin) info.origin = source.origin;
  return info;
}

/**
 * A box (default: all) of a level, decoded chunk by chunk through zarrita and the codec. Hostile
 * chunk bytes fail with the codec's own error (a VmgFormatError of its kind), naming the store, the
 * level, the chunk and its shard file; a read that fails otherwise is a VolumeReadError.
 */
export async function readGaussianStore(path: string, level = 0, box?: Box): Promise<Volume> {
  registerGaussianCodec();
  const source = await openZarrSource(path, { level });
  try {
    return await source.read(box);
  } catch (e) {
    // zarrita wraps a codec's error ("Failed to decode chunk via codec …"): report the chunk's own problem
    const chunkError = codecError(e);
    if (chunkError) throw await namedChunkError(path, level, source, box, chunkError);
    if (e instanceof VolumeReadError || e instanceof RangeError) throw e;
    throw new VolumeReadError(path, e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/** Inner chunks a failed read is searched through for the bad one (beyond, the error names the level only). */
const MAX_CHUNKS_SEARCHED = 4096;

function codecError(e: unknown): VmgFormatError | undefined {
  return causes(e).find((c): c is VmgFormatError => c instanceof VmgFormatError);
}

/**
 * The codec's error, of its own class, now naming where the bad bytes are: the read's inner chunks
 * are read again one at a time until one fails (on this error path only).
 */
async function namedChunkError(path: string, level: number, source: ZarrVolumeSource, box: Box | undefined, first: VmgFormatError): Promise<VmgFormatError> {
  const where = await badChunk(path, level, source, box ?? { z0: 0, z1: source.shape[0], y0: 0, y1: source.shape[1], x0: 0, x1: source.shape[2] }).catch(() => undefined);
  return (where?.error ?? first).withFile(`${path}: level ${level}${where ? ` chunk [${where.chunk.join(", ")}] (shard file ${where.file})` : ""}`);
}

async function badChunk(path: string, level: number, source: ZarrVolumeSource, box: Box): Promise<{ chunk: Shape3; file: string; error: VmgFormatError } | undefined> {
  const levelPath = levelPaths(await readJson(join(path, "zarr.json")))?.[level];
  const inner = levelPath === undefined ? undefined : gaussianCodec(((await readJson(join(path, levelPath, "zarr.json"))) ?? {}) as ArrayJson)?.chunks;
  if (levelPath === undefined || inner?.length !== 3) return undefined;
  const lo = [box.z0, box.y0, box.x0], hi = [box.z1, box.y1, box.x1];
  const first = lo.map((v, a) => Math.floor(v / inner[a]!)), end = hi.map((v, a) => Math.ceil(v / inner[a]!));
  if ((end[0]! - first[0]!) * (end[1]! - first[1]!) * (end[2]! - first[2]!) > MAX_CHUNKS_SEARCHED) return undefined;
  for (let cz = first[0]!; cz < end[0]!; cz++) for (let cy = first[1]!; cy < end[1]!; cy++) for (let cx = first[2]!; cx < end[2]!; cx++) {
    const c: Shape3 = [cz, cy, cx];
    const b = c.map((v, a) => [v * inner[a]!, Math.min(source.shape[a]!, (v + 1) * inner[a]!)] as const);
    try {
      await source.read({ z0: b[0]![0], z1: b[0]![1], y0: b[1]![0], y1: b[1]![1], x0: b[2]![0], x1: b[2]![1] });
    } catch (e) {
      const error = codecError(e);
      if (!error) throw e;
      const shard = c.map((v, a) => Math.floor((v * inner[a]!) / source.chunks[a]!));
      return { chunk: c, file: `${levelPath}/c/${shard.join("/")}`, error };
    }
  }
  return undefined;
}

function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let c = e; c !== undefined && out.length < 8; c = (c as { cause?: unknown }).cause) out.push(c);
  return out;
}
