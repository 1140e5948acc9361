/**
 * Memory bounded by the block (issue #15, items 1–3): region reads of every input kind equal the
 * same box of a whole read; the planning pass's block-wise statistics give the in-memory value
 * mapping; the levels made chunk by chunk equal the whole-volume downsampling; and a store written
 * from files read block by block has the bytes of the store written from the volume in memory.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Box } from "../src/core/background.js";
import type { Shape3 } from "../src/core/gaussian.js";
import { Random } from "../src/core/random.js";
import type { Volume } from "../src/core/volume.js";
import { robustMapping } from "../src/fit/prepare.js";
import { evaluate, evaluateInSlabs } from "../src/metrics/evaluate.js";
import { crc32 } from "../src/format/crc32.js";
import { MissingChunkError } from "../src/io/errors.js";
import { cutBox, memorySource, wholeBox, type VolumeSource } from "../src/io/region.js";
import { encodeTiffStack } from "../src/io/tiff.js";
import { writeVolume } from "../src/node/atomic-write.js";
import { openVolumeSource } from "../src/node/open-volume.js";
import { writeGaussianStore } from "../src/node/store-writer.js";
import { InputStats } from "../src/store/plan-stats.js";
import { chunkBox, downsample2, levelCount, planLevel } from "../src/store/plan.js";
import { walkPyramid } from "../src/store/pyramid.js";
import { buildShard, shardingCodec } from "../src/store/shard.js";
import { knownGaussians } from "./helpers/volumes.js";

const SHAPE: Shape3 = [13, 17, 19];

function randomVolume(shape: Shape3, seed = 4): Volume {
  const rng = new Random(seed);
  return { shape, dtype: "uint16", data: Uint16Array.from({ length: shape[0] * shape[1] * shape[2] }, () => Math.floor(rng.uniform(0, 65535))) };
}

/** Boxes at every face and corner, single voxels, whole planes and random ones. */
function boxes(shape: Shape3): Box[] {
  const [nz, ny, nx] = shape, rng = new Random(9);
  const out: Box[] = [wholeBox(shape), { z0: 0, z1: 1, y0: 0, y1: 1, x0: 0, x1: 1 }, { z0: nz - 1, z1: nz, y0: ny - 1, y1: ny, x0: nx - 1, x1: nx },
    { z0: nz - 3, z1: nz, y0: 0, y1: ny, x0: nx - 4, x1: nx }, { z0: 2, z1: 3, y0: 0, y1: ny, x0: 0, x1: nx }, { z0: 0, z1: nz, y0: ny - 2, y1: ny, x0: 1, x1: 2 }];
  for (let i = 0; i < 12; i++) {
    const r = (n: number) => { const a = Math.floor(rng.uniform(0, n)), b = Math.floor(rng.uniform(0, n)); return [Math.min(a, b), Math.max(a, b) + 1] as const; };
    const [z0, z1] = r(nz), [y0, y1] = r(ny), [x0, x1] = r(nx);
    out.push({ z0, z1, y0, y1, x0, x1 });
  }
  return out;
}

async function assertReadsLike(source: VolumeSource, v: Volume, label: string): Promise<void> {
  assert.deepEqual(source.shape, v.shape, label);
  assert.equal(source.dtype, v.dtype, label);
  for (const b of boxes(v.shape)) {
    const got = await source.read(b);
    assert.deepEqual(got.shape, [b.z1 - b.z0, b.y1 - b.y0, b.x1 - b.x0], label);
    assert.deepEqual(got.data, cutBox(v, b).data, `${label}: box ${JSON.stringify(b)}`);
  }
}

/** A raw zarr v3 array in shards of `shard`³ holding `inner`³ chunks (uncompressed), as zarr-python 3 writes one. */
async function writeShardedZarr(dir: string, v: Volume, shard: number, inner: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "zarr.json"), JSON.stringify({
    zarr_format: 3, node_type: "array", shape: v.shape, data_type: v.dtype,
    chunk_grid: { name: "regular", configuration: { chunk_shape: [shard, shard, shard] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } }, fill_value: 0,
    codecs: [shardingCodec([inner, inner, inner], { name: "bytes", configuration: { endian: "little" } })], dimension_names: ["z", "y", "x"], attributes: {},
  }));
  const per = shard / inner, grid = v.shape.map((n) => Math.ceil(n / shard));
  for (let sz = 0; sz < grid[0]!; sz++) for (let sy = 0; sy < grid[1]!; sy++) for (let sx = 0; sx < grid[2]!; sx++) {
    const chunks: Uint8Array[] = [];
    for (let iz = 0; iz < per; iz++) for (let iy = 0; iy < per; iy++) for (let ix = 0; ix < per; ix++) {
      const lo = [sz * shard + iz * inner, sy * shard + iy * inner, sx * shard + ix * inner];
      const c = new Uint16Array(inner ** 3);
      for (let z = 0; z < inner; z++) for (let y = 0; y < inner; y++) for (let x = 0; x < inner; x++) {
        const [gz, gy, gx] = [lo[0]! + z, lo[1]! + y, lo[2]! + x];
        if (gz < v.shape[0] && gy < v.shape[1] && gx < v.shape[2]) c[(z * inner + y) * inner + x] = v.data[(gz * v.shape[1] + gy) * v.shape[2] + gx]!;
      }
      chunks.push(new Uint8Array(c.buffer));
    }
    await mkdir(join(dir, "c", String(sz), String(sy)), { recursive: true });
    await writeFile(join(dir, "c", String(sz), String(sy), String(sx)), buildShard(chunks)!);
  }
}

/** Debian's python3 with tifffile, for strip- and tile-compressed TIFFs our encoder does not write. */
const TIFFFILE = spawnSync("/usr/bin/python3", ["-c", "import tifffile, numpy"]).status === 0 ? "/usr/bin/python3" : undefined;

describe("region reads", () => {
  let dir = "";
  const v = randomVolume(SHAPE);
  before(async () => { dir = await mkdtemp(join(tmpdir(), "vmg-region-")); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test("every box of a volume in memory, zarr v3, zarr v2, a sharded zarr v3 and a TIFF stack equals that box of the whole volume", async () => {
    await assertReadsLike(memorySource(v, "mem"), v, "memory");
    await writeVolume(join(dir, "v3.zarr"), v, { chunks: [4, 5, 6] });
    await assertReadsLike(await openVolumeSource(join(dir, "v3.zarr")), v, "zarr v3");
    await writeVolume(join(dir, "v2.zarr"), v, { chunks: [5, 4, 7], zarrFormat: 2 });
    await assertReadsLike(await openVolumeSource(join(dir, "v2.zarr")), v, "zarr v2");
    await writeShardedZarr(join(dir, "sharded.zarr"), v, 8, 4);
    await assertReadsLike(await openVolumeSource(join(dir, "sharded.zarr")), v, "sharded zarr v3");
    await writeFile(join(dir, "stack.tif"), encodeTiffStack(v));
    await assertReadsLike(await openVolumeSource(join(dir, "stack.tif")), v, "TIFF");
  });

  test("TIFF pages in several compressed strips or tiles read only what a box touches, with the same voxels", { skip: TIFFFILE ? false : "no /usr/bin/python3 with tifffile" }, async () => {
    await writeFile(join(dir, "raw.u16"), new Uint8Array(v.data.buffer));
    const script = [
      "import sys, numpy, tifffile",
      `a = numpy.fromfile(sys.argv[1], dtype='<u2').reshape(${SHAPE.join(",")})`,
      "tifffile.imwrite(sys.argv[2], a, rowsperstrip=3, compression='zlib')",
      "tifffile.imwrite(sys.argv[3], a, tile=(16, 16), compression='zlib')",
      "tifffile.imwrite(sys.argv[4], a, rowsperstrip=5)",
    ].join("\n");
    const files = ["strips.tif", "tiles.tif", "raw-strips.tif"].map((f) => join(dir, f));
    execFileSync(TIFFFILE!, ["-c", script, join(dir, "raw.u16"), ...files]);
    for (const f of files) await assertReadsLike(await openVolumeSource(f), v, f);
  });

  test("an absent zarr chunk reads as the fill value where a box touches it; with strict only such a box fails", async () => {
    const path = join(dir, "absent.zarr");
    await writeVolume(path, v, { chunks: [4, 5, 6] });
    await unlink(join(path, "0", "c", "1", "1", "1"));
    const hole: Box = { z0: 4, z1: 8, y0: 5, y1: 10, x0: 6, x1: 12 };
    const want = { ...v, data: v.data.slice() };
    for (let z = hole.z0; z < hole.z1; z++) for (let y = hole.y0; y < hole.y1; y++) for (let x = hole.x0; x < hole.x1; x++) want.data[(z * SHAPE[1] + y) * SHAPE[2] + x] = 0;
    await assertReadsLike(await openVolumeSource(path), want, "absent chunk");
    const strict = await openVolumeSource(path, { strict: true });
    assert.deepEqual((await strict.read({ z0: 0, z1: 4, y0: 0, y1: 17, x0: 0, x1: 19 })).data, cutBox(v, { z0: 0, z1: 4, y0: 0, y1: 17, x0: 0, x1: 19 }).data);
    await assert.rejects(strict.read({ z0: 5, z1: 6, y0: 6, y1: 7, x0: 7, x1: 8 }), (e: unknown) => e instanceof MissingChunkError && e.message.includes(path));
  });
});

describe("the planning pass, block by block", () => {
  const addInChunks = (vol: Volume, chunk: number): InputStats => {
    const stats = new InputStats(vol.shape, vol.dtype, "in.zarr");
    const l = planLevel(0, vol, chunk, chunk);
    for (let z = 0; z < l.chunkGrid[0]; z++) for (let y = 0; y < l.chunkGrid[1]; y++) for (let x = 0; x < l.chunkGrid[2]; x++) {
      const b = chunkBox(l, [z, y, x], chunk);
      stats.add(b, cutBox(vol, b).data);
    }
    return stats;
  };

  test("its value mapping is the in-memory one: exact histograms of 8/16-bit data, the same strided sample of float32 beyond 4 M voxels", () => {
    const rng = new Random(2);
    const u16 = randomVolume([21, 30, 25]);
    const i8: Volume = { shape: [9, 10, 11], dtype: "int8", data: Int8Array.from({ length: 990 }, () => Math.floor(rng.uniform(-128, 127))) };
    // 4.2 M voxels: the sample takes every second one, so a block must find its share of the flat index
    const f32: Volume = { shape: [41, 320, 321], dtype: "float32", data: Float32Array.from({ length: 41 * 320 * 321 }, () => rng.normal() ** 3) };
    for (const [vol, chunk] of [[u16, 8], [i8, 4], [f32, 64], [f32, 37]] as const) {
      assert.deepEqual(addInChunks(vol, chunk).mapping(), robustMapping(vol, "in.zarr"), `${vol.dtype} in ${chunk}³ blocks`);
    }
    assert.throws(() => addInChunks({ ...f32, data: f32.data.map((x, i) => (i === 4_000_000 ? NaN : x)) }, 64).mapping(), /in\.zarr: contains NaN values/);
  });

  test("its fingerprint is the CRC-32 of the voxels' bytes chunk after chunk, in C order", () => {
    const vol = randomVolume([10, 11, 12]);
    const bytes = (d: Volume["data"]) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    assert.equal(addInChunks(vol, 16).crc32, crc32(bytes(vol.data)), "one chunk: the whole volume's CRC");
    const l = planLevel(0, vol, 6, 6);
    const parts: number[] = [];
    for (let z = 0; z < 2; z++) for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) parts.push(...bytes(cutBox(vol, chunkBox(l, [z, y, x], 6)).data));
    assert.equal(addInChunks(vol, 6).crc32, crc32(Uint8Array.from(parts)));
  });

  test("the levels made chunk by chunk are the whole volume's 2× downsamplings", async () => {
    const vol = randomVolume([37, 29, 45]), chunk = 8;
    const whole: Volume[] = [vol];
    for (let i = 1; i < levelCount(vol.shape, chunk); i++) whole.push(downsample2(whole[i - 1]!));
    const levels = whole.map((w, i) => planLevel(i, w, chunk, chunk));
    const seen = new Set<string>();
    await walkPyramid(async (b) => cutBox(vol, b), levels, chunk, async (l, c, got) => {
      seen.add(`${l}/${c.join()}`);
      assert.deepEqual(got.data, cutBox(whole[l]!, chunkBox(levels[l]!, c, chunk)).data, `level ${l} chunk ${c.join()}`);
    });
    assert.equal(seen.size, levels.reduce((n, l) => n + l.chunkGrid[0] * l.chunkGrid[1] * l.chunkGrid[2], 0), "every chunk of every level once");
  });
});

test("the report's PSNR and SSIM, a slab of planes at a time, are the whole volumes' figures", async () => {
  for (const shape of [[23, 14, 16], [7, 15, 12]] as Shape3[]) {
    const ref = randomVolume(shape, 1), rng = new Random(5);
    const test = Float32Array.from(ref.data, (x) => x + rng.normal() * 3000);
    const whole = evaluate(ref.data, test, shape);
    const plane = shape[1] * shape[2];
    for (const slab of [1, 4, 100]) {
      const m = await evaluateInSlabs(shape, async (a, b) => ref.data.subarray(a * plane, b * plane), async (a, b) => test.subarray(a * plane, b * plane), whole.peak, slab);
      for (const k of ["psnr", "ssim", "mse", "peak"] as const) assert.ok(Math.abs(m[k] - whole[k]) <= 1e-9 * Math.abs(whole[k]), `${shape.join("x")}, slabs of ${slab}: ${k} ${m[k]} vs ${whole[k]}`);
    }
  }
});

describe("a store from files read block by block", { timeout: 240_000 }, () => {
  let dir = "";
  before(async () => { dir = await mkdtemp(join(tmpdir(), "vmg-blockstore-")); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  async function files(root: string): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    for (const e of await readdir(root, { recursive: true, withFileTypes: true })) if (e.isFile()) out.set(join(e.parentPath, e.name).slice(root.length), await readFile(join(e.parentPath, e.name)));
    return out;
  }

  test("has the bytes, manifest included, of the store written from the volume in memory (zarr and TIFF input)", async () => {
    const vol = knownGaussians([20, 26, 30], 20, 3).volume;
    const settings = { chunk: 8, shard: 16, bytes: 9000, halo: 2, iterations: 30, seed: 1, encoding: "packed" as const, background: "poly1" as const, gate: 0.5, threads: 2, name: "t" };
    await writeGaussianStore(join(dir, "mem.ome.zarr"), vol, settings);
    await writeVolume(join(dir, "in.zarr"), vol, { chunks: [7, 9, 11] });
    await writeFile(join(dir, "in.tif"), encodeTiffStack(vol));
    const want = await files(join(dir, "mem.ome.zarr"));
    assert.ok([...want.keys()].some((k) => k.startsWith("/2/")), "three levels");
    for (const input of ["in.zarr", "in.tif"]) {
      const out = join(dir, `${input}.ome.zarr`);
      await writeGaussianStore(out, await openVolumeSource(join(dir, input)), settings);
      const got = await files(out);
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), input);
      for (const [k, b] of got) assert.ok(b.equals(want.get(k)!), `${input}: ${k} differs`);
    }
  });
});
