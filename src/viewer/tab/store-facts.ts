/**
 * The facts the VolMicro tab shows for a Gaussian store (a zarr layer whose arrays use the
 * `volmicro.gaussians` codec), read on the main thread from the store's metadata: the root
 * zarr.json (OME-Zarr levels) and each level's zarr.json (shape, shard and chunk shape, codec
 * configuration). Store bytes need each shard's size: for a store of at most MAX_INDEXED_SHARDS
 * shards the tab reads every shard's index (one suffix range of 16 bytes per chunk + 4; never a
 * chunk), which also gives present and absent chunks; a larger store shows its grid counts only.
 * No DOM or Neuroglancer imports (unit-tested in Node).
 */
import type { AbsolutePath, RangeQuery } from "zarrita";
import type { Shape3 } from "../../core/gaussian.js";
import { chunkShape3, parseConfig, type GaussianCodecConfig } from "../../store/codec/config.js";
import { gaussianCodec, levelPaths, type ArrayJson } from "../../store/metadata.js";
import { readShardIndex, shardIndexBytes } from "../../store/shard.js";

/** Reads shard indexes only up to this many shards in all (one small request each). */
export const MAX_INDEXED_SHARDS = 64;

export interface ReadableStore {
  get(key: AbsolutePath): Promise<Uint8Array | undefined>;
  getRange(key: AbsolutePath, range: RangeQuery): Promise<Uint8Array | undefined>;
}

export interface StoreLevelFacts {
  path: string;
  shape: Shape3;
  /** Inner chunk shape (what the codec decodes). */
  chunks: Shape3;
  /** Shard shape (the array's chunk grid); equal to `chunks` for an unsharded array. */
  shards: Shape3;
  chunkGrid: Shape3;
  shardGrid: Shape3;
  /** Chunks inside `sharding_indexed` shards (else each chunk is its own object). */
  sharded: boolean;
  /** From the shard indexes, when read: chunks present, and bytes of chunks plus indexes. */
  presentChunks?: number;
  bytes?: number;
}

export interface StoreFacts {
  url: string;
  dtype: string;
  config: GaussianCodecConfig;
  levels: StoreLevelFacts[];
  /** Bytes of the zarr.json files read. */
  metadataBytes: number;
  /** Every file of the store (metadata, shards), when the shard indexes were read. */
  bytes?: number;
  /** How the chunk counts and bytes were found, in words. */
  source: string;
}

const text = new TextDecoder();

async function json(store: ReadableStore, key: AbsolutePath): Promise<{ value: unknown; bytes: number } | undefined> {
  const b = await store.get(key);
  if (!b) return undefined;
  try {
    return { value: JSON.parse(text.decode(b)), bytes: b.length };
  } catch {
    return undefined;
  }
}

const shape3 = (s: readonly number[] | undefined, what: string, url: string): Shape3 => {
  try {
    return chunkShape3(s ?? []);
  } catch {
    throw new Error(`${url}: ${what} [${(s ?? []).join(", ")}] is not three positive integers`);
  }
};

/**
 * The store's facts, or undefined when the store at `url` is not a Gaussian store (no level uses
 * the codec): the tab then offers "Compress this layer". Throws on a level that breaks the codec's
 * rules (a configuration it refuses, a shape that is not 3D).
 */
export async function readStoreFacts(store: ReadableStore, url: string): Promise<StoreFacts | undefined> {
  const root = await json(store, "/zarr.json");
  if (!root) return undefined;
  const paths = levelPaths(root.value) ?? [""];
  let metadataBytes = root.bytes;
  const levels: StoreLevelFacts[] = [];
  let config: GaussianCodecConfig | undefined, dtype = "", separator = "/", encoding = "default";
  for (const path of paths) {
    const meta = path === "" ? root : await json(store, `/${path.replace(/^\/+|\/+$/g, "")}/zarr.json`);
    if (!meta) return undefined;
    if (path !== "") metadataBytes += meta.bytes;
    const a = meta.value as ArrayJson;
    const codec = gaussianCodec(a);
    if (!codec) return undefined;
    config ??= parseConfig(codec.config);
    dtype = a.data_type ?? "";
    encoding = a.chunk_key_encoding?.name ?? "default";
    separator = a.chunk_key_encoding?.configuration?.separator ?? (encoding === "v2" ? "." : "/");
    const shape = shape3(a.shape, "shape", url);
    const chunks = shape3(codec.chunks, "chunk shape", url);
    const shards = codec.sharded ? shape3(a.chunk_grid?.configuration?.chunk_shape, "shard shape", url) : chunks;
    const grid = (c: Shape3) => shape.map((n, i) => Math.ceil(n / c[i]!)) as unknown as Shape3;
    levels.push({ path: path.replace(/^\/+|\/+$/g, ""), shape, chunks, shards, chunkGrid: grid(chunks), shardGrid: grid(shards), sharded: codec.sharded });
  }
  const facts: StoreFacts = { url, dtype, config: config!, levels, metadataBytes, source: "" };
  const shardCount = levels.reduce((n, l) => n + l.shardGrid[0] * l.shardGrid[1] * l.shardGrid[2], 0);
  const sharded = levels.every((l) => l.sharded);
  if (!sharded || shardCount > MAX_INDEXED_SHARDS) {
    facts.source = `metadata only (${shardCount.toLocaleString("en")} ${sharded ? "shards" : "unsharded chunks"}; ` +
      `the tab reads shard indexes when a store has at most ${MAX_INDEXED_SHARDS} shards)`;
    return facts;
  }
  let total = metadataBytes, unreadable = 0;
  for (const l of levels) {
    const perShard = l.shards[0] / l.chunks[0] * (l.shards[1] / l.chunks[1]) * (l.shards[2] / l.chunks[2]);
    const indexBytes = shardIndexBytes(perShard);
    let present = 0, bytes = 0;
    for (let z = 0; z < l.shardGrid[0]; z++) for (let y = 0; y < l.shardGrid[1]; y++) for (let x = 0; x < l.shardGrid[2]; x++) {
      const key = (encoding === "v2" ? [z, y, x].join(separator) : ["c", z, y, x].join(separator));
      const index = await store.getRange(`/${l.path ? `${l.path}/` : ""}${key}` as AbsolutePath, { suffixLength: indexBytes });
      if (!index) continue; // an absent shard: all its chunks are the fill value
      const entries = readShardIndex(index, perShard);
      if (!entries) { unreadable++; continue; }
      for (const e of entries) if (e) { present++; bytes += e.length; }
      bytes += indexBytes;
    }
    l.presentChunks = present;
    l.bytes = bytes;
    total += bytes;
  }
  facts.source = `metadata and the ${shardCount} shard indexes (one range request each; no chunk read)` +
    (unreadable ? `; ${unreadable} index${unreadable > 1 ? "es" : ""} failed its checksum and ${unreadable > 1 ? "were" : "was"} not counted` : "");
  if (!unreadable) facts.bytes = total;
  return facts;
}

/** The tab's rows for `facts`: [label, value, tooltip]. */
export function storeFactRows(f: StoreFacts): Array<[string, string, string]> {
  const l0 = f.levels[0]!;
  const voxels = l0.shape[0] * l0.shape[1] * l0.shape[2];
  const xyz = (s: Shape3) => `${s[2]} × ${s[1]} × ${s[0]}`;
  const c = f.config;
  const rows: Array<[string, string, string]> = [
    ["Store", f.url, "a zarr v3 / OME-Zarr store whose chunks are coded by the volmicro.gaussians codec"],
    ["Shape", `${xyz(l0.shape)} voxels (x × y × z)`, "level 0"],
    ["Data type", f.dtype, ""],
    ["Codec", `volmicro.gaussians v${c.version}, ${c.encoding} encoding, truncation ${c.truncation}σ`,
      `stored value = ${c.valueOffset} + ${c.valueScale} · field`],
    ["Levels", String(f.levels.length), ""],
  ];
  f.levels.forEach((l, i) => {
    const n = l.chunkGrid[0] * l.chunkGrid[1] * l.chunkGrid[2];
    const chunks = l.presentChunks === undefined ? `${n.toLocaleString("en")} chunks` : `${l.presentChunks.toLocaleString("en")} of ${n.toLocaleString("en")} chunks present`;
    const bytes = l.bytes === undefined ? "" : `, ${l.bytes.toLocaleString("en")} bytes`;
    rows.push([`Level ${i}`, `${xyz(l.shape)}; chunks ${xyz(l.chunks)} in shards ${xyz(l.shards)}; ${chunks}${bytes}`,
      `array "${l.path}": ${xyz(l.chunkGrid)} chunks in ${xyz(l.shardGrid)} shards (x × y × z)`]);
  });
  rows.push(["Store bytes", f.bytes === undefined ? "unknown" : `${f.bytes.toLocaleString("en")} bytes`, "metadata, shard indexes and chunks"]);
  rows.push(["Bits per voxel", f.bytes === undefined ? "unknown" : ((f.bytes * 8) / voxels).toPrecision(3), "store bytes × 8 / level-0 voxels"]);
  rows.push(["Read from", f.source, ""]);
  return rows;
}
