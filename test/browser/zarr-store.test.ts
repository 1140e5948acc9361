/**
 * A Gaussian chunk store (written by `vmg compress … -o *.ome.zarr`) opened through Neuroglancer's
 * own zarr datasource: the slice on screen is the CPU decoder's decode of the same region, the
 * chunks arrive by range requests into shard files, a damaged chunk fails alone and its error
 * shows in the VolMicro tab, which also gives the store's facts; on SwiftShader "auto" decodes
 * on the CPU and `?vmgDecode=webgpu` with the splat pass, to the same slice.
 */
import assert from "node:assert/strict";
import { cp, readFile, writeFile } from "node:fs/promises";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fullBox, VmgDecoder } from "../../src/decode/decoder.js";
import { writeVolume } from "../../src/node/atomic-write.js";
import { gaussianStoreInfo, readGaussianStore } from "../../src/node/store-reader.js";
import { shardChunks, shardIndexBytes } from "../../src/store/shard.js";
import type { ServedRequest } from "../../demo/server.js";
import { syntheticNeuron } from "../../src/synthetic/neuron.js";
import { vmg } from "../helpers/cli.js";
import type { Page } from "puppeteer";
import { compareSlice, slicePosition } from "./compare.js";
import { openViewer, panelPixels, startEnv, type Env } from "./harness.js";

const [NZ, NY, NX] = [32, 64, 64];
const CHUNK = 16;
const PIXELS_PER_VOXEL = 4;
const DAMAGED_Z = 8;
let env: Env;
let dir: string;
/** The damaged chunk's (y, x) chunk position at level 0 (its z is 0). */
let damaged: [number, number];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "vmg-zarr-store-"));
  const f = syntheticNeuron({ shape: [NZ, NY, NX], gaussians: 400, dtype: "uint8", seed: 7, perCurve: 100 });
  const input = join(dir, "input.tif");
  await writeVolume(input, { shape: [NZ, NY, NX], dtype: "uint8", data: new VmgDecoder(f).decode(fullBox([NZ, NY, NX])), voxelSize: [1, 1, 1], unit: "micrometer" });
  const r = await vmg(["compress", input, "-o", join(dir, "store.ome.zarr"), "--chunk", String(CHUNK), "--shard", "32", "--bpp", "1", "--iterations", "8", "--threads", "2"]);
  assert.equal(r.code, 0, r.stderr);
  // The same store with one chunk damaged (its version byte): of level 0's chunks crossed by slice
  // DAMAGED_Z in shard 0/c/0/0/0, the one with the most structure there, so that its loss shows.
  const slice = await expected("store.ome.zarr", DAMAGED_Z);
  const structure = (cy: number, cx: number) => structuredVoxels(slice, cy * CHUNK, (cy + 1) * CHUNK, cx * CHUNK, (cx + 1) * CHUNK);
  damaged = [[0, 0], [0, 1], [1, 0], [1, 1]].reduce((a, b) => (structure(b[0]!, b[1]!) > structure(a[0]!, a[1]!) ? b : a)) as [number, number];
  assert.ok(structure(...damaged) > 0.1 * CHUNK * CHUNK, "no chunk of slice DAMAGED_Z has structure: a weak test");
  await cp(join(dir, "store.ome.zarr"), join(dir, "damaged.ome.zarr"), { recursive: true });
  const shard = join(dir, "damaged.ome.zarr", "0", "c", "0", "0", "0");
  const bytes = new Uint8Array(await readFile(shard));
  const index = new DataView(bytes.buffer, bytes.length - shardIndexBytes(8));
  bytes[Number(index.getBigUint64(16 * (damaged[0] * 2 + damaged[1]), true))] = 7; // inner chunk (0, cy, cx), C order
  await writeFile(shard, bytes);
  env = await startEnv(dir);
});
after(async () => { await env?.close(); rmSync(dir, { recursive: true, force: true }); });

/** Voxels of a slice's region more than 20 grey levels from the region's mean: how much there is to see. */
function structuredVoxels(at: (x: number, y: number) => number, y0: number, y1: number, x0: number, x1: number): number {
  let sum = 0, n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) { sum += at(x, y); n++; }
  let count = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (Math.abs(at(x, y) - sum / n) > 20) count++;
  return count;
}

/** An xy view of the store at slice z through `zarr://`, grey = the uint8 value, centred on compareSlice's (NX/2, NY/2). */
function state(store: string, z: number, scheme = "zarr", base = env.server.url): Record<string, unknown> {
  return {
    dimensions: { x: [1e-6, "m"], y: [1e-6, "m"], z: [1e-6, "m"] },
    position: slicePosition(NX / 2, NY / 2, z),
    crossSectionScale: 1 / PIXELS_PER_VOXEL,
    layout: "xy",
    showAxisLines: false,
    showScaleBar: false,
    showDefaultAnnotations: false,
    layers: [{
      type: "image", name: "store", source: `${scheme}://${base}data/${store}`, opacity: 1,
      shader: "void main() { emitGrayscale(toNormalized(getDataValue())); }",
    }],
  };
}

type Stats = { chunks: { cpu: number; webgpu: number }; lastReason: string };

/** The page's decode statistics of the store's level arrays, summed (their URLs lie under the store's). */
async function storeStats(page: Page, store: string): Promise<Stats> {
  const all = await page.evaluate(() => (globalThis as unknown as { volmicro: { decodeStats(): Record<string, Stats & { updated: number }> } }).volmicro.decodeStats());
  const mine = Object.entries(all).filter(([url]) => url.includes(`/data/${store}/`)).map(([, s]) => s).sort((a, b) => a.updated - b.updated);
  return { chunks: { cpu: mine.reduce((n, s) => n + s.chunks.cpu, 0), webgpu: mine.reduce((n, s) => n + s.chunks.webgpu, 0) }, lastReason: mine.at(-1)?.lastReason ?? "" };
}

/** Open the selected layer's VolMicro tab with Alt+V (the key binding listens on the viewer's element). */
async function openTab(page: Page): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as { viewer: { element: HTMLElement } }).viewer.element.focus());
  await page.keyboard.down("Alt");
  await page.keyboard.press("KeyV");
  await page.keyboard.up("Alt");
}

/** Slice z of level 0 as the CLI's store reader (zarrita + the same codec and CPU decoder) decodes it. */
async function expected(store: string, z: number): Promise<(x: number, y: number) => number> {
  const v = await readGaussianStore(join(dir, store), 0, { z0: z, z1: z + 1, y0: 0, y1: NY, x0: 0, x1: NX });
  return (x, y) => v.data[y * NX + x]!;
}

// zarr:// detects the zarr version; zarr3:// states it; vmg:// of a *.zarr URL (here relative to the page) redirects to zarr://.
for (const scheme of ["zarr", "zarr3", "vmg"]) test(`${scheme}:// streams a Gaussian store: the slice is the CPU decoder's, fetched by range requests into shards`, async () => {
  const z = 20;
  const served = env.server.requests.length;
  const { page, errors } = await openViewer(env, state("store.ome.zarr", z, scheme, scheme === "vmg" ? "" : env.server.url));
  try {
    const exp = await expected("store.ome.zarr", z);
    assert.ok(structuredVoxels(exp, 0, NY, 0, NX) > 0.05 * NX * NY, `slice ${z} is nearly flat: a weak test`);
    const shot = await panelPixels(page);
    const cmp = compareSlice(shot, exp, NX, NY, NX / 2, NY / 2, PIXELS_PER_VOXEL, 2);
    assert.ok(cmp.compared >= 3 * NX * NY, `compared only ${cmp.compared} pixels`);
    assert.ok(cmp.agree >= 0.99, `only ${(cmp.agree * 100).toFixed(2)}% of pixels within 2 grey levels (mean |diff| ${cmp.meanAbs.toFixed(2)}, shift ${cmp.shift})`);
    const other = compareSlice(shot, await expected("store.ome.zarr", z - 12), NX, NY, NX / 2, NY / 2, PIXELS_PER_VOXEL, 2);
    assert.ok(other.agree < 0.95, `slice ${z - 12} matches the screen as well (${other.agree})`);
    // Shards (level/c/z/y/x) are read only by range: the index (found by a HEAD for the size, then its
    // range at the end) once per shard, then each chunk in view by its own range.
    const shardReads = env.server.requests.slice(served).filter((r) => r.method === "GET" && /\/store\.ome\.zarr\/\d+\/c\//.test(r.path));
    assert.ok(shardReads.length > 0, "no shard was read");
    for (const r of shardReads) assert.ok(r.range && r.status === 206, `a shard read without a satisfied range: ${JSON.stringify(r)}`);
    const level0 = shardReads.filter((r) => r.path.includes("/store.ome.zarr/0/c/"));
    const isIndexRead = (r: ServedRequest) => {
      const size = statSync(join(dir, r.path.slice("/data/".length))).size;
      return r.range === `bytes=${size - shardIndexBytes(8)}-${size - 1}`; // a level-0 shard holds 2 × 2 × 2 chunks
    };
    const level0Chunks = level0.filter((r) => !isIndexRead(r));
    assert.equal(new Set(level0.filter(isIndexRead).map((r) => r.path)).size, level0.length - level0Chunks.length, "a shard index was read twice");
    // Level 0 has 2 × 4 × 4 chunks; the slice crosses the 16 of its z = 16…31 layer.
    assert.ok(level0Chunks.length > 0 && level0Chunks.length <= 16, `${level0Chunks.length} level-0 chunk reads: ${JSON.stringify(level0Chunks)}`);
    // "auto" on a machine whose only WebGPU adapter is SwiftShader: the CPU, saying why (the
    // adapter is a fallback, or its request had not settled when the chunk came: no waiting).
    const stats = await storeStats(page, "store.ome.zarr");
    assert.ok(stats.chunks.cpu > 0 && stats.chunks.webgpu === 0, JSON.stringify(stats));
    assert.match(stats.lastReason, /^auto: (.*software fallback adapter|WebGPU device not ready yet)/);
    // the pool workers decode with the WebAssembly SIMD kernel that webpack inlined (Chromium has SIMD128)
    const kernels = await page.evaluate(() => Object.values((globalThis as unknown as { volmicro: { decodeStats(): Record<string, { reports: Array<{ path: string; kernel?: string }> }> } }).volmicro.decodeStats())
      .flatMap((s) => s.reports).filter((r) => r.path === "cpu").map((r) => r.kernel));
    assert.ok(kernels.length > 0 && kernels.every((k) => k === "wasm"), `CPU chunk kernels: ${JSON.stringify(kernels)}`);
    // once the worker's request has settled, chunks not decoded yet (slice 6: level 0's other layer) refuse the fallback adapter
    const adapter = await page.evaluate(() => (globalThis as unknown as { volmicro: { workerGpu(): Promise<string | null> } }).volmicro.workerGpu());
    assert.ok(adapter, "the chunk worker has no WebGPU adapter: nothing to refuse");
    await page.evaluate((p) => { (globalThis as unknown as { viewer: { position: { value: Float32Array } } }).viewer.position.value = Float32Array.from(p); }, slicePosition(NX / 2, NY / 2, 6));
    await page.waitForFunction((n) => {
      const all = (globalThis as unknown as { volmicro: { decodeStats(): Record<string, { chunks: { cpu: number; webgpu: number } }> } }).volmicro.decodeStats();
      return Object.values(all).reduce((k, s) => k + s.chunks.cpu + s.chunks.webgpu, 0) > n;
    }, { timeout: 60_000 }, stats.chunks.cpu);
    await page.waitForFunction(() => (globalThis as unknown as { viewer: { isReady(): boolean } }).viewer.isReady(), { timeout: 90_000, polling: 100 });
    const later = await storeStats(page, "store.ome.zarr");
    assert.ok(later.chunks.cpu > stats.chunks.cpu && later.chunks.webgpu === 0, JSON.stringify(later));
    assert.match(later.lastReason, /^auto: .*software fallback adapter/);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("a damaged chunk fails alone with the codec's typed error; the rest of the slice renders", async () => {
  const z = DAMAGED_Z;
  // Never "ready": one chunk stays failed. Wait for its error, then for the others to arrive.
  const { page, errors, console: lines } = await openViewer(env, state("damaged.ome.zarr", z), "", false);
  try {
    const chunkError = /volmicro\.gaussians chunk 16x16x16: chunk version 7 is not supported/;
    for (let t = 0; !lines.some((l) => chunkError.test(l)); t += 100) {
      assert.ok(t < 90_000, `no chunk error in the console: ${lines.slice(-10).join(" | ")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.waitForNetworkIdle({ idleTime: 500, timeout: 60_000 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const shot = await panelPixels(page);
    const inDamaged = (x: number, y: number) => Math.floor(y / CHUNK) === damaged[0] && Math.floor(x / CHUNK) === damaged[1];
    const exp = await expected("store.ome.zarr", z);
    const cmp = compareSlice(shot, exp, NX, NY, NX / 2, NY / 2, PIXELS_PER_VOXEL, 2, inDamaged);
    assert.ok(cmp.compared >= 3 * (NX * NY - CHUNK * CHUNK) && cmp.agree >= 0.99, `outside the damaged chunk ${(cmp.agree * 100).toFixed(2)}% of ${cmp.compared} pixels agree`);
    // Inside it, level 0's values are not on screen (at most a coarser level's stand-in).
    const inside = compareSlice(shot, exp, NX, NY, NX / 2, NY / 2, PIXELS_PER_VOXEL, 2, (x, y) => !inDamaged(x, y));
    assert.ok(inside.compared > 0 && inside.agree < 0.9, `the damaged chunk's region matches level 0 (${inside.agree} of ${inside.compared})`);
    // The failure reaches the page: the layer's VolMicro tab names it with its tag.
    await openTab(page);
    await page.waitForFunction(() => /failed/.test(document.querySelector(".volmicro-chunk-failures")?.textContent ?? ""), { timeout: 60_000 });
    const failed = await page.$eval(".volmicro-chunk-failures", (e) => e.textContent ?? "");
    assert.match(failed, /^1 chunk failed: volmicro\.gaussians chunk 16x16x16: chunk version 7 is not supported .*\(format\/unsupported-version; first in http:.*\/damaged\.ome\.zarr\/0\/\)$/);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("?vmgDecode=webgpu decodes store chunks with the splat pass (SwiftShader here): the slice is the CPU decoder's", async () => {
  const z = 20;
  const { page, errors } = await openViewer(env, state("store.ome.zarr", z), "?vmgDecode=webgpu");
  try {
    const cmp = compareSlice(await panelPixels(page), await expected("store.ome.zarr", z), NX, NY, NX / 2, NY / 2, PIXELS_PER_VOXEL, 2);
    assert.ok(cmp.compared >= 3 * NX * NY && cmp.agree >= 0.99, `${(cmp.agree * 100).toFixed(2)}% of ${cmp.compared} pixels within 2 grey levels`);
    const stats = await storeStats(page, "store.ome.zarr");
    assert.ok(stats.chunks.webgpu > 0 && stats.chunks.cpu === 0, JSON.stringify(stats));
    assert.match(stats.lastReason, /^webgpu: /);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("the VolMicro tab of a store layer gives its levels, chunks, codec, bytes and bpp from its metadata and shard indexes", async () => {
  const s: Record<string, unknown> = { ...state("store.ome.zarr", 20), selectedLayer: { layer: "store", visible: true, size: 500 } };
  (s["layers"] as Array<Record<string, unknown>>)[0]!["tab"] = "volmicro";
  const { page, errors } = await openViewer(env, s, "", false);
  try {
    await page.waitForSelector('.volmicro-store tr[data-key="Store bytes"]', { timeout: 90_000 });
    const rows = Object.fromEntries(await page.$$eval(".volmicro-store .volmicro-facts tr", (trs) => trs.map((tr) => [tr.getAttribute("data-key"), tr.querySelector("td")?.textContent ?? ""])));
    const cli = await gaussianStoreInfo(join(dir, "store.ome.zarr")); // what `vmg info` says of the store
    assert.equal(rows["Levels"], String(cli.levels.length));
    assert.equal(rows["Store bytes"], `${cli.bytes.toLocaleString("en")} bytes`, rows["Read from"]);
    assert.equal(rows["Bits per voxel"], ((cli.bytes * 8) / (NX * NY * NZ)).toPrecision(3));
    assert.match(rows["Codec"]!, new RegExp(`^volmicro\\.gaussians v${cli.config.version}, ${cli.config.encoding} encoding, truncation ${cli.config.truncation}σ$`));
    // Level 0: 2 × 4 × 4 chunks of 16³ in 1 × 2 × 2 shards of 32³; those present, counted from the shard files themselves.
    let present = 0;
    for (const y of [0, 1]) for (const x of [0, 1]) {
      present += shardChunks(new Uint8Array(await readFile(join(dir, "store.ome.zarr", "0", "c", "0", String(y), String(x)))), 8).filter((c) => c).length;
    }
    assert.equal(rows["Level 0"], `64 × 64 × 32; chunks 16 × 16 × 16 in shards 32 × 32 × 32; ${present} of 32 chunks present, ${cli.levels[0]!.bytes - statSync(join(dir, "store.ome.zarr", "0", "zarr.json")).size} bytes`
      .replace(/, (\d+) bytes$/, (_, n: string) => `, ${Number(n).toLocaleString("en")} bytes`));
    cli.levels.forEach((l, i) => assert.ok(rows[`Level ${i}`]?.startsWith(`${[...l.shape].reverse().join(" × ")}; chunks ${[...l.chunks].reverse().join(" × ")} in shards`), rows[`Level ${i}`]));
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("after the chunk worker's WebGPU device is lost, store chunks still decode (CPU, or a new device) to the CPU decoder's slice", async () => {
  const { page, errors, console: lines } = await openViewer(env, state("store.ome.zarr", 20), "?vmgDecode=webgpu");
  try {
    const before = await storeStats(page, "store.ome.zarr");
    assert.ok(before.chunks.webgpu > 0, JSON.stringify(before));
    const adapter = await page.evaluate(() => (globalThis as unknown as { volmicro: { loseWorkerGpu(): Promise<string | null> } }).volmicro.loseWorkerGpu());
    assert.ok(adapter, "the chunk worker had no WebGPU device to lose");
    // slice 6 lies in level 0's other layer of chunks (z 0…15): none of them decoded yet
    const z = 6;
    await page.evaluate((p) => { (globalThis as unknown as { viewer: { position: { value: Float32Array } } }).viewer.position.value = Float32Array.from(p); }, slicePosition(NX / 2, NY / 2, z));
    await page.waitForFunction((n) => {
      const all = (globalThis as unknown as { volmicro: { decodeStats(): Record<string, { chunks: { cpu: number; webgpu: number } }> } }).volmicro.decodeStats();
      return Object.values(all).reduce((k, s) => k + s.chunks.cpu + s.chunks.webgpu, 0) > n;
    }, { timeout: 60_000 }, before.chunks.cpu + before.chunks.webgpu);
    await page.waitForFunction(() => (globalThis as unknown as { viewer: { isReady(): boolean } }).viewer.isReady(), { timeout: 90_000, polling: 100 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const after = await storeStats(page, "store.ome.zarr");
    console.log(`store chunks before the loss: ${JSON.stringify(before.chunks)}; after: ${JSON.stringify(after.chunks)}, ${after.lastReason}`);
    const exp = await expected("store.ome.zarr", z);
    assert.ok(structuredVoxels(exp, 0, NY, 0, NX) > 0.05 * NX * NY, `slice ${z} is nearly flat: a weak test`);
    const cmp = compareSlice(await panelPixels(page), exp, NX, NY, NX / 2, NY / 2, PIXELS_PER_VOXEL, 2);
    assert.ok(cmp.compared >= 3 * NX * NY && cmp.agree >= 0.99, `${(cmp.agree * 100).toFixed(2)}% of ${cmp.compared} pixels within 2 grey levels after the loss`);
    assert.ok(!lines.some((l) => /Error retrieving chunk/.test(l)), "a chunk failed after the device loss");
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
