/**
 * `npm run bench:viewer [-- --json] [--runs N] [--no-fit] [--force-webgpu]`: the viewer in Debian's
 * Chromium (puppeteer), on the demo (demo/volumes.ts default: a light-sheet axon block as zarr
 * beside its `.vmg`).
 *
 *  - first_frame_ms: navigation start → the first animation frame in which Neuroglancer reports
 *    every visible chunk of both layers drawn (`viewer.isReady()`), demo layout, cold page.
 *  - chunk_{cpu,webgpu}_{median,p95}_ms: full-resolution 64³ chunks of the `.vmg` layer decoded by
 *    the viewer's own worker paths (`?vmgDecode=cpu|webgpu`), each chunk's time measured where it
 *    ran (pool worker; GPU dispatch + readback + background) without queueing or per-file setup.
 *  - vmg_bytes / zarr_bytes: bytes of the responses (puppeteer response events, page and workers,
 *    cache disabled) fetched for each layer while the demo shows the whole volume (maximum-intensity
 *    projections) and a cross-section.
 *
 * When the browser's only WebGPU adapter is a software fallback (SwiftShader on a machine without a
 * GPU: `adapter.info.isFallbackAdapter`, or "swiftshader" in its vendor/architecture/description)
 * or there is none, the WebGPU figures (chunk_webgpu_*, fit_webgpu_*) are not measured: they
 * would time a CPU rasteriser (about 8 s per chunk and over 25 minutes for the fit here), not a
 * GPU. Their keys stay, with null values, and `webgpu_not_measured` gives the reason.
 * `--force-webgpu` measures them on any adapter. Progress goes to stderr; with --json stdout is
 * one line.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import puppeteer, { type Page } from "puppeteer";
import { ensureViewerBuild, ROOT } from "../demo/build.js";
import { makeDemoData } from "../demo/make-data.js";
import { startStaticServer } from "../demo/server.js";
import { demoState, demoUrl } from "../demo/state.js";
import { DEFAULT_DEMO_VOLUME, DEMO_VOLUMES } from "../demo/volumes.js";
import { readVmg } from "../src/format/vmg.js";
import type { ChunkDecodeReport } from "../src/viewer/base.js";
import { CHROMIUM, CHROMIUM_ARGS } from "../test/browser/harness.js";
import { benchFit, type FitBench } from "./viewer-fit.js";

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    runs: { type: "string", default: "4" },
    "no-fit": { type: "boolean", default: false },
    "force-webgpu": { type: "boolean", default: false },
  },
});
const log = (s: string) => process.stderr.write(`bench:viewer: ${s}\n`);
const runs = Math.max(1, Number(values.runs));

const demo = DEMO_VOLUMES[DEFAULT_DEMO_VOLUME]!;
const build = await ensureViewerBuild("production", join(ROOT, "dist"), log);
if (build.built) log(`viewer built in ${build.seconds.toFixed(1)} s`);
const data = await makeDemoData(join(ROOT, "../shared/data", demo.file), join(ROOT, "demo/data"), {
  name: demo.name, bpp: demo.bpp, iterations: demo.iterations, ...(demo.crop ? { crop: demo.crop } : {}), log,
});
const server = await startStaticServer({ "/": join(ROOT, "dist"), "/data": data.dir });
const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, protocolTimeout: 600_000 });
const header = readVmg(new Uint8Array(readFileSync(data.vmg))).header;
const layers = {
  zarrUrl: `${server.url}data/${data.name}.zarr/`, vmgUrl: `data/${data.name}.vmg`,
  shape: data.shape, voxelSize: data.voxelSize, unit: data.unit,
  dtype: header.dtype, valueOffset: header.valueOffset, valueScale: header.valueScale, z: data.bestZ,
};

/**
 * Bytes per response URL, from the page and its workers (puppeteer reports worker requests with
 * the page's). The static server sends no content-encoding, so a body's length is what crossed
 * the wire apart from HTTP headers. The page runs with its cache disabled.
 */
class NetworkBytes {
  readonly bytes = new Map<string, number>();
  private readonly pending: Promise<void>[] = [];

  static async attach(page: Page): Promise<NetworkBytes> {
    const n = new NetworkBytes();
    await page.setCacheEnabled(false);
    page.on("response", (r) => {
      n.pending.push((async () => {
        let length: number;
        try { length = (await r.buffer()).length; } catch { length = Number(r.headers()["content-length"] ?? 0); }
        n.bytes.set(r.url(), (n.bytes.get(r.url()) ?? 0) + length);
      })());
    });
    return n;
  }

  async total(test: (url: string) => boolean): Promise<number> {
    await Promise.all(this.pending);
    let s = 0;
    for (const [url, b] of this.bytes) if (test(url)) s += b;
    return s;
  }
}

/**
 * Records the first frame in which the viewer is ready (ms since navigation start). A string, not
 * a function: tsx adds `__name(...)` helpers to named inner functions, which do not exist in the page.
 */
const FIRST_READY_FRAME = `(() => {
  const check = () => {
    try {
      if (globalThis.viewer && globalThis.viewer.isReady()) { globalThis.volmicroFirstReadyMs = performance.now(); return; }
    } catch { /* not built yet */ }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})()`;

async function openPage(state: unknown, query = ""): Promise<{ page: Page; network: NetworkBytes; readyMs: number }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 800, deviceScaleFactor: 1 });
  const network = await NetworkBytes.attach(page);
  // installed at the load event, long before the first chunk arrives (a script added with
  // evaluateOnNewDocument never saw its frames run here)
  await page.goto(demoUrl(server.url, state, query), { waitUntil: "load" });
  await page.evaluate(FIRST_READY_FRAME);
  await page.waitForFunction(() => (globalThis as { volmicroFirstReadyMs?: number }).volmicroFirstReadyMs !== undefined, { timeout: 300_000, polling: 200 });
  const readyMs = await page.evaluate(() => (globalThis as unknown as { volmicroFirstReadyMs: number }).volmicroFirstReadyMs);
  return { page, network, readyMs };
}

/** Why the page's WebGPU adapter is not worth timing (none, or a software fallback); undefined for a GPU. */
async function webgpuNotMeasured(): Promise<string | undefined> {
  const page = await browser.newPage();
  try {
    await page.goto(demoUrl(server.url, { layers: [] }), { waitUntil: "load" });
    const adapter = await page.evaluate(async () => {
      const a = await navigator.gpu?.requestAdapter();
      if (!a) return null;
      const i = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
      return { name: [i.vendor, i.architecture, i.description].filter((x) => x).join(" "), fallback: i.isFallbackAdapter ?? false };
    });
    if (!adapter) return "the browser offers no WebGPU adapter";
    if (adapter.fallback || /swiftshader/i.test(adapter.name)) {
      return `the only WebGPU adapter (${adapter.name || "unnamed"}) is a software fallback, a CPU rasteriser: its timings would not be a GPU's`;
    }
    return undefined;
  } finally {
    await page.close();
  }
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
const round = (x: number) => Math.round(x * 100) / 100;

let result: Record<string, number | string | null>;
try {
  const notMeasured = values["force-webgpu"] ? undefined : await webgpuNotMeasured();
  if (notMeasured) log(`WebGPU figures not measured: ${notMeasured} (--force-webgpu measures them anyway)`);

  // 1. cold start of the demo: first ready frame and bytes per layer
  log("demo page, cold (cache disabled)…");
  const first = await openPage(demoState(layers));
  const vmgBytes = await first.network.total((u) => u.includes(`/data/${data.name}.vmg`));
  const zarrBytes = await first.network.total((u) => u.includes(`/data/${data.name}.zarr/`));
  const serverVmg = server.bytes.get("/data/") ?? 0;
  log(`first ready frame ${first.readyMs.toFixed(0)} ms; network bytes .vmg ${vmgBytes}, zarr ${zarrBytes} (server sent ${serverVmg} bytes from /data in all)`);
  await first.page.close();

  // 2. chunk decode latency per path, from the viewer's own per-chunk reports
  // a plane inside the first 64-voxel layer of chunks, so the cross-section asks for full 64³ chunks
  const vmgOnly = { ...demoState({ ...layers, z: Math.min(32, data.shape[0] - 1) }) } as Record<string, unknown> & { layers: Array<{ name: string }> };
  vmgOnly.layers = vmgOnly.layers.filter((l) => l.name === "vmg");
  vmgOnly["layout"] = "xy-3d";
  const chunkMs: Record<"cpu" | "webgpu", number[]> = { cpu: [], webgpu: [] };
  for (const path of notMeasured ? ["cpu"] as const : ["cpu", "webgpu"] as const) {
    for (let r = 0; r < runs; r++) {
      const { page } = await openPage(vmgOnly, `?vmgDecode=${path}`);
      const reports = await page.evaluate(() => {
        const stats = (globalThis as unknown as { volmicro: { decodeStats(): Record<string, { reports: ChunkDecodeReport[] }> } }).volmicro.decodeStats();
        return Object.values(stats).flatMap((s) => s.reports);
      });
      await page.close();
      const full = reports.filter((x) => x.level === 0 && x.voxels === 64 ** 3);
      if (full.length === 0) log(`no full-resolution 64³ chunk among ${reports.length} decoded: ${reports.map((x) => `level ${x.level} ${x.voxels} voxels`).join(", ")}`);
      if (full.some((x) => x.path !== path)) throw new Error(`asked for ${path} but chunks were decoded by ${full.find((x) => x.path !== path)!.path} (${full[0]!.reason})`);
      chunkMs[path].push(...full.map((x) => x.ms));
    }
    log(`${path}: ${chunkMs[path].length} full-resolution 64³ chunks, median ${quantile(chunkMs[path], 0.5).toFixed(1)} ms, p95 ${quantile(chunkMs[path], 0.95).toFixed(1)} ms`);
  }

  result = {
    first_frame_ms: round(first.readyMs),
    chunk_cpu_median_ms: round(quantile(chunkMs.cpu, 0.5)),
    chunk_cpu_p95_ms: round(quantile(chunkMs.cpu, 0.95)),
    chunk_webgpu_median_ms: notMeasured ? null : round(quantile(chunkMs.webgpu, 0.5)),
    chunk_webgpu_p95_ms: notMeasured ? null : round(quantile(chunkMs.webgpu, 0.95)),
    vmg_bytes: vmgBytes,
    zarr_bytes: zarrBytes,
  };

  // 3. "Compress this layer" in the page (CPU and WebGPU engines) and `vmg compress` on the same job
  if (!values["no-fit"]) {
    const fit: FitBench = await benchFit({ browser, server, data, bpp: demo.bpp, webgpu: !notMeasured, log });
    Object.assign(result, fit);
  }
  if (notMeasured) result["webgpu_not_measured"] = notMeasured;
} finally {
  await browser.close();
  await server.close();
}

if (values.json) console.log(JSON.stringify(result));
else {
  for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(24)} ${v}`);
  console.log(`(.vmg is ${(Number(result["zarr_bytes"]) / Number(result["vmg_bytes"])).toFixed(0)}× fewer bytes than the zarr layer for the same view)`);
}
