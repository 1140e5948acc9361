/**
 * The viewer's memory and cancellation in Chromium: a removed layer's file leaves the chunk
 * worker's cache with its GPU buffers destroyed and its blob: URL revoked; a chunk decode aborted
 * while queued costs no GPU dispatch and rejects with an AbortError, and later chunks still decode.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Box } from "../../src/core/background.js";
import type { FileCacheState } from "../../src/viewer/loader.js";
import type { QueuedDecodes } from "../../src/viewer/test-hooks.js";
import { makeTestData, type TestData } from "./data.js";
import { openHooksPage, openViewer, startEnv, type Env } from "./harness.js";

let env: Env;
let data: TestData;

before(async () => {
  data = makeTestData();
  env = await startEnv(data.dir);
});
after(async () => { await env?.close(); });

interface Hooks {
  viewer: { state: { restoreState(s: unknown): void; toJSON(): Record<string, unknown> } };
  fileCache(maxBytes?: number): Promise<FileCacheState>;
  layerBlobUrl(url: string): Promise<string>;
  decodeStats(): Record<string, { chunks: { cpu: number; webgpu: number } }>;
  queuedDecodes(url: string, mode: string, level: number, boxes: Box[], abort: number[]): Promise<QueuedDecodes>;
}

test("removing a layer releases its file's cache entry and GPU buffers, and revokes its blob: URL", async () => {
  const { page, errors } = await openViewer(env, { layers: [], layout: "xy" }, "?vmgDecode=webgpu", false);
  try {
    await page.waitForFunction(() => "volmicro" in globalThis, { timeout: 60_000 });
    const blob = await page.evaluate(async () => {
      const h = (globalThis as unknown as { volmicro: Hooks }).volmicro;
      await h.fileCache(0); // bound 0: only what a layer holds may stay
      const url = await h.layerBlobUrl("data/neuron.vmg");
      const state = h.viewer.state.toJSON();
      h.viewer.state.restoreState({ ...state, layers: [{ type: "image", name: "result", source: `vmg://${url}` }] });
      return url;
    });
    await page.waitForFunction((u: string) => ((globalThis as unknown as { volmicro: Hooks }).volmicro.decodeStats()[u]?.chunks.webgpu ?? 0) > 0, { timeout: 90_000, polling: 200 }, blob);
    const shown = await page.evaluate(() => (globalThis as unknown as { volmicro: Hooks }).volmicro.fileCache());
    const entry = shown.entries.find((e) => e.url === blob);
    assert.ok(entry?.held, `the shown layer's file is cached and held: ${JSON.stringify(shown.entries)}`);
    assert.ok(entry.bytes > data.neuron.length, "its estimate counts more than the file's bytes (kernels, index, GPU buffers)");

    await page.evaluate(() => {
      const h = (globalThis as unknown as { volmicro: Hooks }).volmicro;
      h.viewer.state.restoreState({ ...h.viewer.state.toJSON(), layers: [] });
    });
    await page.waitForFunction(async (u: string) => !(await (globalThis as unknown as { volmicro: Hooks }).volmicro.fileCache()).entries.some((e) => e.url === u), { timeout: 30_000, polling: 200 }, blob);
    const gone = await page.evaluate(() => (globalThis as unknown as { volmicro: Hooks }).volmicro.fileCache());
    const release = gone.released.filter((r) => r.url === blob).at(-1); // the last: what the layer had built up
    assert.ok(release && release.gpuBytes > 0, `its GPU buffers were destroyed: ${JSON.stringify(gone.released)}`);
    const revoked = await page.evaluate(async (u: string) => fetch(u).then(() => false, () => true), blob);
    assert.ok(revoked, "the blob: URL no longer resolves");
    const stats = await page.evaluate(() => (globalThis as unknown as { volmicro: Hooks }).volmicro.decodeStats());
    assert.equal(stats[blob], undefined, "its decode statistics are released with it");
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("a chunk decode aborted while queued costs no GPU dispatch and rejects with an AbortError; later ones decode", async () => {
  const { page } = await openHooksPage(env);
  try {
    const box = (x0: number): Box => ({ z0: 0, z1: 32, y0: 0, y1: 64, x0, x1: x0 + 64 });
    const boxes = [box(0), box(16), box(32), box(48), box(64)];
    const r = await page.evaluate((b: Box[]) => (globalThis as unknown as { volmicro: Hooks }).volmicro.queuedDecodes("data/neuron.vmg", "webgpu", 0, b, [1, 3]), boxes);
    assert.deepEqual(r.outcomes, ["ok", "AbortError", "ok", "AbortError", "ok"]);
    assert.equal(r.dispatches, 3, "only the three decodes still wanted were dispatched");
    const again = await page.evaluate((b: Box[]) => (globalThis as unknown as { volmicro: Hooks }).volmicro.queuedDecodes("data/neuron.vmg", "webgpu", 0, b, []), boxes.slice(0, 2));
    assert.deepEqual(again, { outcomes: ["ok", "ok"], dispatches: 2 });
  } finally {
    await page.close();
  }
});
