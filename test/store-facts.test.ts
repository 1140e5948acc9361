/**
 * The VolMicro tab's store facts (src/viewer/tab/store-facts.ts), read through a real store
 * (FileSystemStore) as the page reads one over http: they agree with the CLI's `vmg info`, a
 * store too large for its indexes to be read shows grid counts only, a damaged index is not
 * counted, a plain zarr is not a Gaussian store, and a configuration the codec refuses is an error.
 */
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { isVmgError } from "../src/core/errors.js";
import { FileSystemStore } from "../src/node/fs-store.js";
import { gaussianStoreInfo } from "../src/node/store-reader.js";
import { writeGaussianStore } from "../src/node/store-writer.js";
import { GAUSSIAN_CODEC_VERSION } from "../src/store/codec/config.js";
import { writeZarrV3 } from "../src/io/zarr.js";
import { syntheticNeuron } from "../src/synthetic/neuron.js";
import { MAX_INDEXED_SHARDS, readStoreFacts, storeFactRows } from "../src/viewer/tab/store-facts.js";

let dir = "";
const shape: [number, number, number] = [32, 48, 48];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vmg-store-facts-"));
  const f = syntheticNeuron({ shape, gaussians: 200, dtype: "uint8", seed: 4, perCurve: 50 });
  const volume = { shape, dtype: "uint8" as const, data: new VmgDecoder(f).decode(fullBox(shape)), voxelSize: [1, 1, 1] as [number, number, number], unit: "micrometer" };
  await writeGaussianStore(join(dir, "s.ome.zarr"), volume, {
    chunk: 16, shard: 32, bytes: (32 * 48 * 48) / 8, halo: 2, iterations: 4, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, name: "s", threads: 2,
  });
  await writeZarrV3(new FileSystemStore(join(dir, "plain.zarr")), volume, { name: "plain", chunks: [16, 16, 16] });
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

const facts = (name: string) => readStoreFacts(new FileSystemStore(join(dir, name)), name);

test("a store's facts: levels, chunks present, bytes and bpp as vmg info counts them", async () => {
  const f = await facts("s.ome.zarr");
  const cli = await gaussianStoreInfo(join(dir, "s.ome.zarr"));
  assert.ok(f);
  assert.equal(f.bytes, cli.bytes);
  assert.equal(f.levels.length, cli.levels.length);
  assert.deepEqual(f.levels.map((l) => l.shape), cli.levels.map((l) => l.shape));
  assert.deepEqual(f.levels.map((l) => l.chunks), cli.levels.map((l) => l.chunks));
  assert.deepEqual(f.levels[0]!.chunkGrid, [2, 3, 3]);
  assert.deepEqual(f.levels[0]!.shardGrid, [1, 2, 2]);
  assert.ok(f.levels[0]!.presentChunks! > 0 && f.levels[0]!.presentChunks! <= 18);
  assert.equal(f.config.version, GAUSSIAN_CODEC_VERSION);
  const rows = Object.fromEntries(storeFactRows(f).map(([k, v]) => [k, v]));
  assert.equal(rows["Bits per voxel"], ((cli.bytes * 8) / (32 * 48 * 48)).toPrecision(3));
  assert.match(rows["Read from"]!, /shard indexes \(one range request each; no chunk read\)$/);
});

test("a damaged shard index is not counted and the store's bytes are unknown", async () => {
  await cp(join(dir, "s.ome.zarr"), join(dir, "bad.ome.zarr"), { recursive: true });
  const shard = join(dir, "bad.ome.zarr", "0", "c", "0", "0", "0");
  const bytes = await readFile(shard);
  bytes[bytes.length - 10]! ^= 0xff; // inside the index: its CRC-32C no longer matches
  await writeFile(shard, bytes);
  const f = await facts("bad.ome.zarr");
  assert.ok(f);
  assert.equal(f.bytes, undefined);
  assert.match(f.source, /1 index failed its checksum and was not counted/);
  assert.equal(Object.fromEntries(storeFactRows(f).map(([k, v]) => [k, v]))["Store bytes"], "unknown");
});

test(`a store of more than ${MAX_INDEXED_SHARDS} shards shows its grid from the metadata alone`, async () => {
  const big = join(dir, "big.ome.zarr");
  await cp(join(dir, "s.ome.zarr"), big, { recursive: true });
  const level = JSON.parse(await readFile(join(big, "0", "zarr.json"), "utf8"));
  level.shape = [4096, 4096, 4096];
  await writeFile(join(big, "0", "zarr.json"), JSON.stringify(level));
  const f = await facts("big.ome.zarr");
  assert.ok(f);
  assert.equal(f.bytes, undefined);
  assert.deepEqual(f.levels[0]!.chunkGrid, [256, 256, 256]);
  assert.equal(f.levels[0]!.presentChunks, undefined);
  assert.match(f.source, /^metadata only \(2,097,\d+ shards; /);
  assert.match(Object.fromEntries(storeFactRows(f).map(([k, v]) => [k, v]))["Level 0"]!, /; 16,777,216 chunks$/);
});

test("a plain zarr is not a Gaussian store; a configuration the codec refuses is a typed error", async () => {
  assert.equal(await facts("plain.zarr"), undefined);
  assert.equal(await facts("absent.zarr"), undefined);
  const odd = join(dir, "odd.ome.zarr");
  await cp(join(dir, "s.ome.zarr"), odd, { recursive: true });
  const level = await readFile(join(odd, "0", "zarr.json"), "utf8");
  await writeFile(join(odd, "0", "zarr.json"), level.replace(`"version":${GAUSSIAN_CODEC_VERSION}`, "\"version\":9"));
  await assert.rejects(facts("odd.ome.zarr"), (e) => isVmgError(e, "format/unsupported-version") && /version 9 is not supported/.test((e as Error).message));
  await mkdir(join(dir, "empty.zarr"));
  assert.equal(await facts("empty.zarr"), undefined);
});
