/**
 * bench:store's pieces that its figures rest on: the tiled store (bench/store-tile.ts) reads back,
 * through the CLI's store reader, as the source store repeated with a period of 256 voxels, on
 * every level, its shards hard links; the face/interior split of PSNR counts the right voxels.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { constantBackground } from "../src/core/background.js";
import type { Shape3 } from "../src/core/gaussian.js";
import { readGaussianStore } from "../src/node/store-reader.js";
import { encodeChunk } from "../src/store/codec/chunk.js";
import { GAUSSIAN_CODEC_VERSION, type GaussianCodecConfig } from "../src/store/codec/config.js";
import { arrayMetadata, groupMetadata, planLevel } from "../src/store/plan.js";
import { buildShard } from "../src/store/shard.js";
import { facePsnr } from "../bench/store-quality.js";
import { levelChunks, writeTiledStore } from "../bench/store-tile.js";

const dir = mkdtempSync(join(tmpdir(), "vmg-bench-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const config: GaussianCodecConfig = { version: GAUSSIAN_CODEC_VERSION, encoding: "packed", truncation: 3, valueOffset: 0, valueScale: 1000 };
/** The source chunk (level, cz, cy, cx) is constant: this value. */
const value = (level: number, c: number[]) => 1000 * level + 100 * c[0]! + 10 * c[1]! + c[2]!;

/** A 256³ store of three levels (64³ chunks, 256³ shards), every chunk a constant told apart by value(). */
function sourceStore(): string {
  const path = join(dir, "source.ome.zarr");
  const levels = [256, 128, 64].map((n, i) => planLevel(i, { shape: [n, n, n], voxelSize: [2 ** i, 2 ** i, 2 ** i], origin: [0, 0, 0] }, 64, 256));
  mkdirSync(path);
  writeFileSync(join(path, "zarr.json"), groupMetadata(levels, undefined, "source"));
  for (const l of levels) {
    const chunks: Uint8Array[] = [];
    const [pz, py, px] = l.perShard;
    for (let z = 0; z < pz; z++) for (let y = 0; y < py; y++) for (let x = 0; x < px; x++) {
      chunks.push(encodeChunk({ background: constantBackground(value(Number(l.path), [z, y, x]) / 1000), gaussians: new Float32Array(0), count: 0 }, [64, 64, 64], config));
    }
    mkdirSync(join(path, l.path, "c", "0", "0"), { recursive: true });
    writeFileSync(join(path, l.path, "zarr.json"), arrayMetadata(l, "uint16", 64, config, 0));
    writeFileSync(join(path, l.path, "c", "0", "0", "0"), buildShard(chunks)!);
  }
  return path;
}

test("a tiled store reads back as its source repeated every 256 voxels, on every level, from hard-linked shards", async () => {
  const source = sourceStore();
  const out = join(dir, "tiled.ome.zarr");
  const shape: Shape3 = [512, 512, 768];
  const t = await writeTiledStore(source, out, shape);
  assert.equal(t.voxels, 512 * 512 * 768);
  assert.equal(t.levels, 5); // 768 → 384 → 192 → 96 → 48
  assert.equal(t.distinctFiles, 3);
  assert.equal(statSync(join(out, "0", "c", "1", "1", "2")).nlink, 13, "level 0's 2×2×3 shards and the source shard are not one file");
  // level L's voxel (z, y, x) lies in tile chunk (c mod period) with period 4 / 2^L chunks (level ≥ 2: the level-2 chunk)
  for (const level of [0, 1, 2, 4]) {
    const f = 2 ** level;
    // a slab across the plane z = 256 (level 0 voxels), the whole of y and x
    const box = { z0: 256 / f - 6, z1: 256 / f + 6, y0: 0, y1: 512 / f, x0: 0, x1: 768 / f };
    const v = await readGaussianStore(out, level, box);
    const period = Math.max(1, 4 / f);
    const [ny, nx] = [box.y1, box.x1];
    for (let z = box.z0; z < box.z1; z++) for (let y = 0; y < ny; y += 7) for (let x = 0; x < nx; x += 5) {
      const c = [z, y, x].map((p) => Math.floor(p / 64) % period);
      assert.equal(v.data[((z - box.z0) * ny + y) * nx + x], value(Math.min(level, 2), c), `level ${level} voxel ${z},${y},${x}`);
    }
  }
  // what the benchmark counts as the bytes of chunks in view is what the shards hold
  const l0 = await levelChunks(source, 0);
  assert.deepEqual(l0.grid, [4, 4, 4]);
  assert.equal(l0.chunks.size, 64);
});

test("facePsnr: errors only next to an internal chunk face count as face voxels, not interior ones", () => {
  const shape: Shape3 = [8, 8, 16];
  const ref = new Uint8Array(8 * 8 * 16).map((_, i) => i % 251);
  const got = Float32Array.from(ref);
  // x = 6 and x = 9 are within 2 of the face at x = 8 (chunk 8); x = 0 and x = 15 lie on the volume's edge, not a chunk face
  for (let z = 0; z < 8; z++) for (let y = 0; y < 8; y++) for (const x of [6, 9]) got[(z * 8 + y) * 16 + x]! += 5;
  const r = facePsnr(ref, got, shape, 8);
  assert.ok(Number.isFinite(r.face));
  assert.equal(r.interior, Infinity);
  const edge = Float32Array.from(ref);
  for (let z = 0; z < 8; z++) for (let y = 0; y < 8; y++) edge[(z * 8 + y) * 16 + 15]! += 5;
  assert.equal(facePsnr(ref, edge, shape, 8).face, Infinity);
});
