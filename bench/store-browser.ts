/**
 * bench:store's browser half: Debian's Chromium (puppeteer) on the production viewer, stores served
 * by the project's static server (demo/server.ts, Range requests) on 127.0.0.1.
 *
 *  - First complete frame of a view: the viewer is opened on the view's navigation with no layer
 *    and left to settle; then the layer is added (`viewer.state.restoreState`) and the time runs
 *    until the first animation frame in which `viewer.isReady()` holds — every layer's sources
 *    loaded and every chunk its panels show drawn (Neuroglancer's own readiness, as
 *    bench/viewer.ts uses it). The viewer's own start-up is thus the same for every store and not
 *    counted. Cache disabled, one fresh page per run.
 *  - Bytes fetched: response bodies the server sent under the store's mount during the run, until
 *    the network is idle (metadata, shard indexes, chunks, and any prefetch).
 *  - Network emulation: CDP `Network.emulateNetworkConditions` on the page (emulateNetwork).
 *  - Chunk decode: chunk bytes posted to a fresh copy of the viewer's async-computation worker
 *    (the bundle Neuroglancer's pool runs, with the codec's handler), one at a time, timed from
 *    post to answer in the page: the same code path as a chunk in view, without queueing.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import puppeteer, { type Browser, type CDPSession, type Page } from "puppeteer";
import { ensureViewerBuild, ROOT } from "../demo/build.js";
import { startStaticServer, type StaticServer } from "../demo/server.js";
import type { Shape3 } from "../src/core/gaussian.js";
import type { GaussianCodecConfig } from "../src/store/codec/config.js";
import type { Box } from "../src/core/background.js";
import { decodeCpuChunk } from "../src/viewer/async-decode.js";
import { decodeGaussianChunkOnPool } from "../src/viewer/gaussian-codec.js";
import { CHROMIUM, CHROMIUM_ARGS } from "../test/browser/harness.js";

export const VIEWPORT = { width: 800, height: 600 };

export interface View {
  /** Store URL (absolute) and its datasource scheme. */
  url: string;
  /** Centre of the view, level-0 voxels [z, y, x]; the view is the xy plane through it. */
  centre: readonly [number, number, number];
  /** Level-0 voxel size [z, y, x] and its unit ("m", or "" where the store states none: Neuroglancer then reads its axes unitless). */
  voxelSize: readonly [number, number, number];
  unit: "m" | "";
  /** Screen pixels per level-0 voxel. */
  zoom: number;
  shader: string;
  /** The page's query, e.g. "?vmgDecode=cpu" (none by default). */
  query?: string;
}

export interface Throttle { downloadMbit: number; latencyMs: number }

export interface FrameRun {
  ms: number;
  /** Bytes served under the store's mount until the network went idle, and by the ready frame. */
  bytes: number;
  bytesAtReady: number;
  /** Paths (below the mount) of the chunk and index reads: which levels were read. */
  reads: string[];
  panel: { width: number; height: number };
  /** The run's Chromium trace (JSON), when asked for (bench/store-timeline.ts reads it). */
  trace?: Uint8Array;
}

/** Trace categories of a traced run: network, tasks of every thread (workers too), user timing marks. */
const TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing", "v8.execute", "toplevel"];

/** Neuroglancer state of `view`, with or without its layer. */
export function viewState(view: View, withLayer: boolean): Record<string, unknown> {
  const [sz, sy, sx] = view.voxelSize;
  const [cz, cy, cx] = view.centre;
  // the zarr array's own order (z, y, x): restoring a state with a layer keeps the layer's order
  return {
    dimensions: { z: [sz, view.unit], y: [sy, view.unit], x: [sx, view.unit] },
    displayDimensions: ["x", "y", "z"],
    position: [cz, cy, cx],
    crossSectionScale: 1 / view.zoom,
    layout: "xy",
    showAxisLines: false,
    showScaleBar: true,
    showDefaultAnnotations: false,
    // Without a layer Neuroglancer opens its "new layer" prompt: a local annotation layer (nothing to fetch or draw) stands in.
    layers: [withLayer
      ? { type: "image", name: "store", source: `zarr://${view.url}`, opacity: 1, shader: view.shader }
      : { type: "annotation", name: "empty", source: "local://annotations" }],
  };
}

export class StoreBrowser {
  private constructor(readonly server: StaticServer, readonly browser: Browser, private readonly dist: string) {}

  /**
   * The production viewer built (if stale), served at / with `mounts` beside it; Chromium started.
   * `dist`: serve that viewer build instead (another commit's, to compare), as it is.
   */
  static async start(mounts: Record<string, string>, log: (s: string) => void, dist?: string): Promise<StoreBrowser> {
    // not dist/: webpack cleans its output folder, and dist/cli holds the CLI
    const build = dist === undefined ? await ensureViewerBuild("production", join(ROOT, ".cache", "viewer-bench-dist"), log) : { outDir: dist, built: false, seconds: 0 };
    if (build.built) log(`viewer built in ${build.seconds.toFixed(1)} s`);
    const server = await startStaticServer({ "/": build.outDir, ...mounts });
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, protocolTimeout: 600_000 });
    return new StoreBrowser(server, browser, build.outDir);
  }

  async close(): Promise<void> {
    await this.browser.close();
    await this.server.close();
  }

  /** A page showing `view` without its layer, settled. */
  private async emptyView(view: View): Promise<Page> {
    const page = await this.browser.newPage();
    await page.setViewport({ ...VIEWPORT, deviceScaleFactor: 1 });
    await page.setCacheEnabled(false);
    await page.goto(`${this.server.url}${view.query ?? ""}#!${encodeURIComponent(JSON.stringify(viewState(view, false)))}`, { waitUntil: "load" });
    await page.waitForFunction(() => (globalThis as unknown as { viewer?: { isReady(): boolean } }).viewer?.isReady() === true, { timeout: 120_000, polling: 100 });
    return page;
  }

  /**
   * The time to the first complete frame of `view` once its layer is added, and what it fetched
   * from `mount`; with `trace`, the Chromium trace of the run, from just before the layer is added
   * until the ready frame.
   */
  async firstFrame(view: View, mount: string, throttle?: Throttle, trace = false): Promise<FrameRun> {
    const page = await this.emptyView(view);
    try {
      if (throttle) await emulateNetwork(page, throttle);
      const prefix = mount.endsWith("/") ? mount : `${mount}/`;
      const sent = () => this.server.bytes.get(prefix) ?? 0;
      const bytes0 = sent(), requests0 = this.server.requests.length;
      if (trace) await page.tracing.start({ categories: TRACE_CATEGORIES });
      const ms = await page.evaluate(`(${FIRST_READY_FRAME})(${JSON.stringify(viewState(view, true))})`) as number;
      const bytesAtReady = sent() - bytes0;
      const traced = trace ? await page.tracing.stop() : undefined;
      await page.waitForNetworkIdle({ idleTime: 1000, timeout: 300_000 });
      const panel = await page.$eval(".neuroglancer-rendered-data-panel", (e) => ({ width: e.clientWidth, height: e.clientHeight }));
      const reads = this.server.requests.slice(requests0).filter((r) => r.path.startsWith(prefix) && /\/c\//.test(r.path)).map((r) => r.path.slice(prefix.length));
      return { ms, bytes: sent() - bytes0, bytesAtReady, reads, panel, ...(traced ? { trace: traced } : {}) };
    } finally {
      await page.close();
    }
  }

  /** A PNG of `view` once its first complete frame is drawn. */
  async screenshot(view: View): Promise<Uint8Array> {
    const page = await this.emptyView(view);
    try {
      await page.evaluate(`(${FIRST_READY_FRAME})(${JSON.stringify(viewState(view, true))})`);
      // the panel's dimension widget (shown while the page thinks the pointer is near) would cover the data
      await page.addStyleTag({ content: ".neuroglancer-display-dimensions-widget { display: none !important; }" });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      return await page.screenshot({ type: "png" });
    } finally {
      await page.close();
    }
  }

  /** The viewer's async-computation worker bundle, served. */
  private poolWorkerUrl(): string {
    const worker = readdirSync(this.dist).find((f) => /^neuroglancer_async_computation.*\.js$/.test(f));
    if (!worker) throw new Error(`no async-computation worker bundle in ${this.dist}`);
    return `${this.server.url}${worker}`;
  }

  /**
   * Milliseconds per decode of each 64³ box of a `.vmg` file (`reps` passes after one warm-up
   * pass, each box's median kept), decoded one at a time by a fresh copy of the viewer's
   * async-computation worker as a `vmg://` layer's CPU chunks are (decodeCpuChunk, level 0): from
   * post to answer in the page, and the decode alone as the worker times it.
   */
  async vmgBoxDecodeMs(file: Uint8Array, boxes: Box[], reps: number): Promise<{ roundTrip: number[]; decode: number[] }> {
    const page = await this.emptyView({ url: "", centre: [0, 0, 0], voxelSize: [1, 1, 1], unit: "", zoom: 1, shader: "" });
    try {
      return await page.evaluate(`(${VMG_BOXES_IN_WORKER})(${JSON.stringify({ url: this.poolWorkerUrl(), op: decodeCpuChunk.id, b64: Buffer.from(file).toString("base64"), boxes, reps })})`) as { roundTrip: number[]; decode: number[] };
    } finally {
      await page.close();
    }
  }

  /**
   * Milliseconds per decode of each chunk (`reps` each, the median kept), decoded one at a time by
   * a fresh copy of the viewer's async-computation worker.
   */
  async chunkDecodeMs(chunks: Uint8Array[], shape: Shape3, dtype: string, config: GaussianCodecConfig, reps: number): Promise<number[]> {
    const page = await this.emptyView({ url: "", centre: [0, 0, 0], voxelSize: [1, 1, 1], unit: "", zoom: 1, shader: "" });
    try {
      const b64 = chunks.map((c) => Buffer.from(c).toString("base64"));
      return await page.evaluate(`(${DECODE_IN_WORKER})(${JSON.stringify({ url: this.poolWorkerUrl(), op: decodeGaussianChunkOnPool.id, b64, shape, dtype, config, reps })})`) as number[];
    } finally {
      await page.close();
    }
  }
}

/**
 * Throttles the page. Worker targets refuse the command ("Not supported"); a dedicated worker's
 * requests (Neuroglancer's chunk worker makes them) go through its page's network emulation, which
 * the benchmark checks by the effective rate it logs.
 */
async function emulateNetwork(page: Page, t: Throttle): Promise<void> {
  const conditions = { offline: false, latency: t.latencyMs, downloadThroughput: (t.downloadMbit * 1e6) / 8, uploadThroughput: (t.downloadMbit * 1e6) / 8 };
  const apply = async (client: CDPSession) => {
    await client.send("Network.enable");
    await client.send("Network.emulateNetworkConditions", conditions);
  };
  await apply(await page.createCDPSession());
}

/** User timing marks of the run's start (the layer added) and end (the ready frame), for traces. */
export const RUN_MARKS = { start: "vmg-bench:layer-added", ready: "vmg-bench:ready" } as const;

/**
 * In the page: restore `state` and resolve with the milliseconds until the first animation frame
 * in which the viewer is ready (a string: tsx's `__name` helpers do not exist in the page).
 */
const FIRST_READY_FRAME = `(state) => new Promise((done) => {
  const viewer = globalThis.viewer;
  performance.mark(${JSON.stringify(RUN_MARKS.start)});
  const t0 = performance.now();
  viewer.state.restoreState(state);
  const check = () => { if (viewer.isReady()) { performance.mark(${JSON.stringify(RUN_MARKS.ready)}); done(performance.now() - t0); } else requestAnimationFrame(check); };
  requestAnimationFrame(check);
})`;

/**
 * In the page (a string: tsx's `__name` helpers do not exist there): start the worker, wait for
 * its ready message, then post each chunk `reps` times as Neuroglancer's pool does ({t, id, args},
 * the bytes transferred) and time each answer.
 */
const DECODE_IN_WORKER = `async ({ url, op, b64, shape, dtype, config, reps }) => {
  const w = new Worker(url); // a classic worker: webpack's worker chunks load their parts by importScripts
  await new Promise((ok) => { w.onmessage = ok; });
  const out = [];
  let id = 0;
  for (const s of b64) {
    const encoded = Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));
    const times = [];
    for (let r = 0; r < reps; r++) {
      const bytes = encoded.slice();
      const t0 = performance.now();
      await new Promise((ok, fail) => {
        w.onmessage = (m) => (m.data.error !== undefined ? fail(new Error(String(m.data.error && m.data.error.message || m.data.error))) : ok(m.data.value));
        w.postMessage({ t: op, id: id++, args: [bytes, shape, dtype, config] }, [bytes.buffer]);
      });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    out.push(times[Math.floor(times.length / 2)]);
  }
  w.terminate();
  return out;
}`;

/**
 * In the page (a string, as DECODE_IN_WORKER): start the worker, send the file with the first box
 * (the worker keeps it, as for a layer), then decode every box once (warm-up) and `reps` more
 * times; each box's median round trip and median worker-side decode time.
 */
const VMG_BOXES_IN_WORKER = `async ({ url, op, b64, boxes, reps }) => {
  const w = new Worker(url);
  await new Promise((ok) => { w.onmessage = ok; });
  const file = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  let id = 0, sent = false;
  const call = (box) => new Promise((ok, fail) => {
    w.onmessage = (m) => (m.data.error !== undefined ? fail(new Error(String(m.data.error && m.data.error.message || m.data.error))) : ok(m.data.value));
    w.postMessage({ t: op, id: id++, args: ["bench.vmg", sent ? null : file, box, 0] });
    sent = true;
  });
  const trips = boxes.map(() => []), decodes = boxes.map(() => []);
  for (let r = 0; r <= reps; r++) for (let i = 0; i < boxes.length; i++) {
    const t0 = performance.now();
    const v = await call(boxes[i]);
    if (v.missing) throw new Error("the worker lost the file");
    if (r > 0) { trips[i].push(performance.now() - t0); decodes[i].push(v.ms); }
  }
  w.terminate();
  const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { roundTrip: trips.map(med), decode: decodes.map(med) };
}`;
