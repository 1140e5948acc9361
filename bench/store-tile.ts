/**
 * A Gaussian store of any size made without a fit, by tiling the encoded chunks of a fitted one:
 * the fitted store's first 256³ voxels (level 0's shard 0/0/0, 4³ chunks of 64³; levels 1 and 2's
 * chunks over the same region) repeat with a period of 256 level-0 voxels. Every shard of a level
 * is then one and the same file, so the big store's shards are hard links to a handful of files and
 * the disk holds about one shard per level. Levels 3 and coarser have chunks wider than the tile:
 * there every chunk repeats level 2's tile chunk (a stand-in of the right size and cost, not the
 * tiled volume downsampled), so a zoomed-out view streams and renders as on a real store.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Shape3 } from "../src/core/gaussian.js";
import { gaussianStoreInfo } from "../src/node/store-reader.js";
import { arrayMetadata, groupMetadata, levelCount, type LevelPlan } from "../src/store/plan.js";
import { buildShard, shardChunks } from "../src/store/shard.js";

export const TILE = 256;
const CHUNK = 64;
const PER_SHARD = TILE / CHUNK;

export interface TiledStore {
  shape: Shape3;
  voxels: number;
  levels: number;
  /** Shard files of the tiled store (names), and distinct files behind them. */
  shardFiles: number;
  distinctFiles: number;
}

/** The inner chunks of a shard file of `perShard`³ chunks (undefined where absent), C order. */
function readShard(path: string, perShard: Shape3): Array<Uint8Array | undefined> {
  return shardChunks(new Uint8Array(readFileSync(path)), perShard[0] * perShard[1] * perShard[2]);
}

/**
 * Writes at `out` a store of `shape` (level-0 voxels, [z, y, x]) tiled from the fitted store at
 * `source` (64³ chunks, 256³ shards, at least 256 voxels per axis, as `vmg compress --chunk 64
 * --shard 256` writes it).
 */
export async function writeTiledStore(source: string, out: string, shape: Shape3): Promise<TiledStore> {
  const info = await gaussianStoreInfo(source);
  const l0 = info.levels[0]!;
  if (l0.chunks.some((c) => c !== CHUNK) || l0.shards.some((s) => s !== TILE) || l0.shape.some((n) => n < TILE)) {
    throw new Error(`${source}: tiling needs 64³ chunks in 256³ shards and at least 256 voxels per axis (it has ${l0.chunks.join("x")} chunks, ${l0.shards.join("x")} shards, shape ${l0.shape.join("x")})`);
  }
  if (info.levels.length < 3) throw new Error(`${source}: tiling needs at least 3 levels, it has ${info.levels.length}`);
  // Each tile level's 256³ shard file: level 0's is the source's own shard 0/0/0; level 1 repeats
  // its 2³ tile chunks, level 2 (and coarser) its one tile chunk, over a shard of 4³ chunks.
  const tileChunk = (level: number, cz: number, cy: number, cx: number): Uint8Array | undefined => {
    const lv = info.levels[level]!;
    const perShard = lv.shards.map((s) => s / CHUNK) as unknown as Shape3;
    return readShard(join(source, lv.path, "c", "0", "0", "0"), perShard)[(cz * perShard[1] + cy) * perShard[2] + cx];
  };
  const repeated = (level: number): Uint8Array => {
    const period = TILE / CHUNK / 2 ** level;
    const chunks: Array<Uint8Array | undefined> = [];
    for (let z = 0; z < PER_SHARD; z++) for (let y = 0; y < PER_SHARD; y++) for (let x = 0; x < PER_SHARD; x++) chunks.push(tileChunk(level, z % period, y % period, x % period));
    return buildShard(chunks) ?? new Uint8Array(0);
  };
  mkdirSync(out, { recursive: true });
  const originals = [join(source, l0.path, "c", "0", "0", "0"), join(out, "tile-1"), join(out, "tile-2")];
  writeFileSync(originals[1]!, repeated(1));
  writeFileSync(originals[2]!, repeated(2));

  const n = levelCount(shape, CHUNK);
  const vs0 = l0.voxelSize ?? [1, 1, 1];
  const levels: LevelPlan[] = [];
  let origin = [...(info.origin ?? [0, 0, 0])] as [number, number, number];
  for (let i = 0; i < n; i++) {
    const f = 2 ** i;
    const s = shape.map((v) => Math.ceil(v / f)) as unknown as Shape3;
    const chunkGrid = s.map((v) => Math.ceil(v / CHUNK)) as unknown as Shape3;
    const voxelSize = vs0.map((v) => v * f) as [number, number, number];
    levels.push({
      path: String(i), shape: s, chunkGrid, perShard: [PER_SHARD, PER_SHARD, PER_SHARD],
      shardGrid: chunkGrid.map((c) => Math.ceil(c / PER_SHARD)) as unknown as Shape3, voxelSize, origin,
    });
    // the next level's voxel centre lies half a voxel of this level further (store/plan.ts downsample2)
    origin = origin.map((o, a) => o + voxelSize[a]! / 2) as [number, number, number];
  }
  writeFileSync(join(out, "zarr.json"), groupMetadata(levels, info.unit, "tiled"));
  let shardFiles = 0;
  for (const l of levels) {
    mkdirSync(join(out, l.path), { recursive: true });
    writeFileSync(join(out, l.path, "zarr.json"), arrayMetadata(l, info.dtype, CHUNK, info.config, 0));
    const original = originals[Math.min(Number(l.path), 2)]!;
    for (let z = 0; z < l.shardGrid[0]; z++) for (let y = 0; y < l.shardGrid[1]; y++) {
      const dir = join(out, l.path, "c", String(z), String(y));
      mkdirSync(dir, { recursive: true });
      for (let x = 0; x < l.shardGrid[2]; x++, shardFiles++) link(original, join(dir, String(x)));
    }
  }
  return { shape, voxels: shape[0] * shape[1] * shape[2], levels: n, shardFiles, distinctFiles: originals.length };
}

/**
 * The present chunks of one level of a store of 64³ chunks, keyed "cz/cy/cx" (chunk grid
 * coordinates), read from its shard files; `grid` is the level's chunk grid.
 */
export async function levelChunks(path: string, level: number): Promise<{ chunks: Map<string, Uint8Array>; grid: Shape3 }> {
  const lv = (await gaussianStoreInfo(path)).levels[level]!;
  const perShard = lv.shards.map((s, a) => s / lv.chunks[a]!) as unknown as Shape3;
  const grid = lv.shape.map((n, a) => Math.ceil(n / lv.chunks[a]!)) as unknown as Shape3;
  const chunks = new Map<string, Uint8Array>();
  for (let cz = 0; cz < grid[0]; cz++) for (let cy = 0; cy < grid[1]; cy++) for (let cx = 0; cx < grid[2]; cx++) {
    const shard = [cz, cy, cx].map((c, a) => Math.floor(c / perShard[a]!));
    const file = join(path, lv.path, "c", ...shard.map(String));
    if (!existsSync(file)) continue;
    const [iz, iy, ix] = [cz % perShard[0], cy % perShard[1], cx % perShard[2]];
    const c = readShard(file, perShard)[(iz * perShard[1] + iy) * perShard[2] + ix];
    if (c) chunks.set(`${cz}/${cy}/${cx}`, c);
  }
  return { chunks, grid };
}

/** A hard link (the disk holds one copy), or a copy where links fail (another filesystem). */
function link(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}
