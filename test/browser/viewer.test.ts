/**
 * The viewer in Debian's Chromium: the vmg:// layer renders what the CPU decoder computes, on the
 * WebGPU path and with WebGPU switched off; both paths agree; links round-trip; a data: payload
 * opens; bad sources show an error on the layer without breaking the page.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { readVmg } from "../../src/format/vmg.js";
import { compareSlice, cpuSlice, sliceView } from "./compare.js";
import { makeTestData, type TestData } from "./data.js";
import { layerErrors, openHooksPage, openViewer, panelPixels, startEnv, waitForReady, type Env } from "./harness.js";

let env: Env;
let data: TestData;

before(async () => {
  data = makeTestData();
  env = await startEnv(data.dir);
});
after(async () => { await env?.close(); });

const Z = 30;
const PIXELS_PER_VOXEL = 2;

/** An xy view of neuron.vmg at z = Z, 2 screen pixels per voxel, no overlays, opaque layer. */
const sliceState = (source: string, file: Uint8Array) => sliceView(source, file, Z, PIXELS_PER_VOXEL);
const expectedSlice = (file: Uint8Array, z = Z) => cpuSlice(file, z);

type Stats = Record<string, { chunks: { cpu: number; webgpu: number }; lastReason: string }>;

async function renderedMatchesCpu(query: string, path: "cpu" | "webgpu"): Promise<void> {
  const { page, errors } = await openViewer(env, sliceState("vmg://data/neuron.vmg", data.neuron), query);
  try {
    const shot = await panelPixels(page);
    const exp = expectedSlice(data.neuron);
    const [, ny, nx] = readVmg(data.neuron).header.shape;
    let bright = 0;
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) if (exp.at(x, y) > 64) bright++;
    assert.ok(bright > 0.02 * nx * ny, `slice ${Z} is nearly empty: a weak test`);
    const cmp = compareSlice(shot, exp.at, nx, ny, nx / 2, ny / 2, PIXELS_PER_VOXEL, 2);
    assert.ok(cmp.compared > 20_000, `compared only ${cmp.compared} pixels`);
    assert.ok(cmp.agree >= 0.99, `only ${(cmp.agree * 100).toFixed(2)}% of pixels within 2 grey levels (mean |diff| ${cmp.meanAbs.toFixed(2)}, shift ${cmp.shift})`);
    // Control: a neighbouring slice must not match, or the comparison has no teeth.
    const other = compareSlice(shot, expectedSlice(data.neuron, Z + 4).at, nx, ny, nx / 2, ny / 2, PIXELS_PER_VOXEL, 2);
    assert.ok(other.agree < 0.95, `slice ${Z + 4} matches the screen as well (${other.agree})`);
    const stats = await page.evaluate(() => (globalThis as unknown as { volmicro: { decodeStats(): unknown } }).volmicro.decodeStats()) as Stats;
    const s = Object.values(stats)[0]!;
    assert.ok(s.chunks[path] > 0, `no chunk decoded by ${path}: ${JSON.stringify(s)}`);
    assert.equal(s.chunks[path === "cpu" ? "webgpu" : "cpu"], 0, `the other path decoded chunks too: ${JSON.stringify(s)}`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
}

test("Chromium exposes a WebGPU adapter (a flag or browser change must not silently disable that path)", async () => {
  const { page } = await openHooksPage(env);
  try {
    const adapter = await page.evaluate(() => (globalThis as unknown as { volmicro: { webgpuAdapter(): Promise<string | null> } }).volmicro.webgpuAdapter());
    assert.ok(adapter, "navigator.gpu.requestAdapter() gave no adapter");
  } finally {
    await page.close();
  }
});

test("the vmg:// layer renders the CPU decoder's slice on the WebGPU path", () => renderedMatchesCpu("?vmgDecode=webgpu", "webgpu"));

test("by default a software (fallback) WebGPU adapter is passed over for the CPU decoder, a hardware one is used", async () => {
  const { page } = await openViewer(env, sliceState("vmg://data/neuron.vmg", data.neuron));
  try {
    const fallback = await page.evaluate(async () => {
      const a = await navigator.gpu.requestAdapter();
      return (a?.info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? false;
    });
    const s = Object.values(await page.evaluate(() => (globalThis as unknown as { volmicro: { decodeStats(): unknown } }).volmicro.decodeStats()) as Stats)[0]!;
    if (fallback) {
      assert.ok(s.chunks.cpu > 0 && s.chunks.webgpu === 0, JSON.stringify(s));
      assert.match(s.lastReason, /software fallback adapter/);
    } else {
      assert.ok(s.chunks.webgpu > 0 && s.chunks.cpu === 0, JSON.stringify(s));
    }
  } finally {
    await page.close();
  }
});

test("with ?vmgDecode=cpu the CPU path renders the same slice", () => renderedMatchesCpu("?vmgDecode=cpu", "cpu"));

test("WebGPU and CPU decodes of the same chunks agree within 1e-3 of the value range", async () => {
  const { page } = await openHooksPage(env);
  try {
    for (const [level, box] of [
      [0, { z0: 0, z1: 60, y0: 0, y1: 64, x0: 64, x1: 128 }],
      [0, { z0: 17, z1: 50, y0: 100, y1: 150, x0: 130, x1: 170 }],
      [1, { z0: 0, z1: 30, y0: 0, y1: 64, x0: 0, x1: 64 }],
      [2, { z0: 0, z1: 15, y0: 0, y1: 38, x0: 0, x1: 43 }],
    ] as const) {
      const r = await page.evaluate((l, b) => (globalThis as unknown as { volmicro: { compareDecodes(u: string, l: number, b: unknown): Promise<{ maxAbsDiff: number; range: number }> } })
        .volmicro.compareDecodes("data/neuron.vmg", l, b), level, box);
      assert.ok(r.range > 0.1, `level ${level}: flat box (range ${r.range})`);
      assert.ok(r.maxAbsDiff <= 1e-3 * r.range, `level ${level}: max |webgpu - cpu| = ${r.maxAbsDiff} for range ${r.range}`);
    }
  } finally {
    await page.close();
  }
});

test("the state URL round-trips: a second page opened from it shows the same state", async () => {
  const state = sliceState("vmg://data/neuron.vmg", data.neuron);
  const first = await openViewer(env, state);
  try {
    await first.page.evaluate(() => new Promise((r) => setTimeout(r, 500))); // URL hash updates are throttled
    const url = first.page.url();
    const json1 = await first.page.evaluate(() => JSON.stringify((globalThis as unknown as { viewer: { state: { toJSON(): unknown } } }).viewer.state.toJSON()));
    const second = await env.browser.newPage();
    try {
      await second.setViewport({ width: 800, height: 600, deviceScaleFactor: 1 });
      await second.goto(url);
      await waitForReady(second);
      const json2 = await second.evaluate(() => JSON.stringify((globalThis as unknown as { viewer: { state: { toJSON(): unknown } } }).viewer.state.toJSON()));
      assert.deepEqual(JSON.parse(json2), JSON.parse(json1));
      assert.match(json1, /"shader":"#uicontrol invlerp normalized\(range=\[/, "the default shader is part of the shared state");
      const a = await panelPixels(first.page), b = await panelPixels(second);
      let same = 0;
      for (let i = 0; i < a.gray.length; i++) if (Math.abs(a.gray[i]! - b.gray[i]!) <= 1) same++;
      assert.ok(same / a.gray.length > 0.999, `the reopened view differs in ${a.gray.length - same} pixels`);
    } finally {
      await second.close();
    }
  } finally {
    await first.page.close();
  }
});

test("an inline data: payload opens and decodes", async () => {
  const b64 = Buffer.from(data.tiny).toString("base64");
  const source = `vmg://data:application/octet-stream;base64,${b64}`;
  const { page, errors } = await openViewer(env, { ...sliceState(source, data.tiny), position: [24, 20, 10.5] });
  try {
    assert.deepEqual(await layerErrors(page), []);
    const stats = await page.evaluate(() => (globalThis as unknown as { volmicro: { decodeStats(): unknown } }).volmicro.decodeStats()) as Stats;
    const [url, s] = Object.entries(stats)[0]!;
    assert.ok(url.startsWith("data:application/octet-stream;base64,"));
    assert.ok(s.chunks.cpu + s.chunks.webgpu > 0);
    const shot = await panelPixels(page);
    assert.ok(shot.gray.some((g) => g > 128), "nothing bright on screen");
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

for (const [what, source, pattern] of [
  ["a missing file", "vmg://data/nope.vmg", /HTTP 404/],
  ["a corrupt file", "vmg://data/corrupt.vmg", /ChecksumMismatchError/],
  ["a file that is not .vmg", "vmg://data/not-vmg.vmg", /BadMagicError/],
  ["a wrong inner scheme", "vmg://ftp://example.org/x.vmg", /unsupported URL scheme "ftp:"/],
  ["an unknown layer scheme", "vmgx://data/neuron.vmg", /Unsupported scheme: vmgx:/],
] as const) {
  test(`${what} shows an error on the layer, and the page keeps working`, async () => {
    const state = {
      ...sliceState("vmg://data/neuron.vmg", data.neuron),
      layers: [
        { type: "image", name: "bad", source, tab: "source" },
        { type: "image", name: "good", source: "vmg://data/neuron.vmg" },
      ],
      selectedLayer: { layer: "bad", visible: true },
    };
    const { page, errors } = await openViewer(env, state, "", false);
    try {
      await page.waitForSelector(".neuroglancer-message-error", { timeout: 60_000 });
      const messages = await layerErrors(page);
      assert.ok(messages.some((m) => pattern.test(m)), `error messages: ${JSON.stringify(messages)}`);
      // The other layer still loads and decodes.
      await page.waitForFunction(() => Object.values((globalThis as unknown as { volmicro: { decodeStats(): Record<string, { chunks: { cpu: number; webgpu: number } }> } }).volmicro.decodeStats())
        .some((s) => s.chunks.cpu + s.chunks.webgpu > 0), { timeout: 60_000 });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
}
