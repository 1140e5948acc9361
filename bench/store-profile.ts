/**
 * `npm run bench:store-profile [-- --quick] [--runs N] [--traced N] [--json]`: where the first complete frame
 * of bench:store's 25 Mbit/s comparison goes. The same view (bench/store-view.ts) of the trailmap
 * store and of its gzip OME-Zarr, network emulated at 25 Mbit/s and 20 ms latency, first untraced
 * (`runs` each, medians: the figures bench:store reports), then `traced` times each (default 3)
 * with a Chromium trace (bench/store-timeline.ts): where the time goes (consecutive segments of
 * each run: metadata round trips, set-up, shard indexes, chunk reads, decodes after the last
 * chunk, drawing; medians), and a table of the phases of each side's median traced run (requests
 * by kind, the decode pool's start, the chunk decodes, the ready frame) in milliseconds from the
 * layer's addition.
 * Tracing slows the page (about 1.5× here): read the traced columns for order and proportion,
 * the untraced medians for the figure. `--quick`: the store of 20 fitter steps (as bench:store
 * --quick; its bytes, and so its transfer, differ little from the full fit's). `--traces DIR`:
 * the traces written there too (DevTools' Performance panel opens them). `--data DIR`: the
 * volumes' folder (default ../shared/data). `--baseline DIST`: the untraced store runs also on
 * the production viewer build at DIST (another commit's `webpack --mode production
 * --output-path DIST`), interleaved with this one's, so that a change is measured under the same
 * load.
 * Writes bench/results/store-profile.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../demo/build.js";
import { openVolume } from "../src/node/open-volume.js";
import { gaussianStoreInfo } from "../src/node/store-reader.js";
import { BENCH_BPP, DATA_DIR } from "./bench-volumes.js";
import { StoreBrowser, type FrameRun } from "./store-browser.js";
import { writeGzipStore } from "./store-gzip.js";
import { fitStore } from "./store-quality.js";
import { criticalPath, phases, readTimeline, requestKinds, type Phase, type Timeline } from "./store-timeline.js";
import { storeView, THROTTLE, VIEW_CENTRE } from "./store-view.js";

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    runs: { type: "string", default: "3" },
    data: { type: "string" },
    traces: { type: "string" },
    baseline: { type: "string" },
    traced: { type: "string", default: "3" },
  },
});
const runs = Math.max(1, Number(values.runs));
const tracedRuns = Math.max(1, Number(values.traced));
const log = (s: string) => (values.json ? process.stderr.write(`${s}\n`) : console.log(s));
const TRAILMAP = "trailmap_lightsheet_axons_303x303x303_u16";
const dataDir = values.data ?? DATA_DIR;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

const startLoad = loadavg();
log(`bench:store-profile${values.quick ? " --quick" : ""}; load average ${startLoad.map((x) => x.toFixed(2)).join(", ")}`);
const store = await fitStore(join(dataDir, `${TRAILMAP}.tif`), TRAILMAP, { bpp: BENCH_BPP, log, ...(values.quick ? { iterations: 20 } : {}) });
const info = await gaussianStoreInfo(store.path);
const tmp = mkdtempSync(join(ROOT, ".cache", "bench-store-profile-"));
try {
  const gzip = join(tmp, "gzip.ome.zarr");
  await writeGzipStore(gzip, await openVolume(join(dataDir, `${TRAILMAP}.tif`)), info.levels.length, TRAILMAP);
  const mounts = { "/s/store": store.path, "/s/gzip": gzip };
  const browser = await StoreBrowser.start(mounts, log);
  const baseline = values.baseline === undefined ? undefined : await StoreBrowser.start(mounts, log, values.baseline);
  const baselineRuns: FrameRun[] = [];
  const sides = [["store", "/s/store"], ["gzip", "/s/gzip"]] as const;
  const untraced: Record<string, FrameRun[]> = { store: [], gzip: [] };
  const tracedAll: Record<string, Array<{ run: FrameRun; timeline: Timeline }>> = {};
  try {
    const view = (mount: string) => storeView(info, `${browser.server.url}${mount.slice(1)}/`, VIEW_CENTRE);
    for (let r = 0; r < runs; r++) {
      for (const [side, mount] of sides) untraced[side]!.push(await browser.firstFrame(view(mount), mount, THROTTLE));
      if (baseline) baselineRuns.push(await baseline.firstFrame(storeView(info, `${baseline.server.url}s/store/`, VIEW_CENTRE), "/s/store", THROTTLE));
    }
    const tracedSides: Array<[string, StoreBrowser, string]> = [...sides.map(([side, mount]) => [side, browser, mount] as [string, StoreBrowser, string]), ...(baseline ? [["baseline", baseline, "/s/store"] as [string, StoreBrowser, string]] : [])];
    for (let r = 0; r < tracedRuns; r++) for (const [side, b, mount] of tracedSides) {
      const run = await b.firstFrame(storeView(info, `${b.server.url}${mount.slice(1)}/`, VIEW_CENTRE), mount, THROTTLE, true);
      (tracedAll[side] ??= []).push({ run, timeline: readTimeline(run.trace!, `${mount}/`) });
      if (values.traces) writeFileSync(join(values.traces, `store-profile-${side}-${r}.json`), run.trace!);
    }
  } finally {
    await browser.close();
    await baseline?.close();
  }

  // the phase tables show each side's traced run of median length; the critical path, medians of all
  const traced = Object.fromEntries(Object.entries(tracedAll).map(([side, xs]) => [side, [...xs].sort((a, b) => a.run.ms - b.run.ms)[Math.floor(xs.length / 2)]!]));
  const ms = (side: string) => median(untraced[side]!.map((r) => r.ms));
  const figure = { store_ms: Math.round(ms("store")), gzip_ms: Math.round(ms("gzip")), ratio: Math.round((100 * ms("gzip")) / ms("store")) / 100, runs };
  if (baseline) log(`baseline viewer (${values.baseline}), the same store, interleaved: ${baselineRuns.map((r) => r.ms.toFixed(0)).join(", ")} ms (median ${median(baselineRuns.map((r) => r.ms)).toFixed(0)}, this viewer's ${ms("store").toFixed(0)})`);
  log(`untraced first complete frame at ${THROTTLE.downloadMbit} Mbit/s, ${THROTTLE.latencyMs} ms latency: store ${untraced["store"]!.map((r) => r.ms.toFixed(0)).join(", ")} ms; gzip ${untraced["gzip"]!.map((r) => r.ms.toFixed(0)).join(", ")} ms; gzip / store ${figure.ratio}×`);

  const rows = (side: string): Phase[] => phases(traced[side]!.timeline);
  const cell = (p: Phase | undefined) => (p ? `${p.count} × · ${p.start.toFixed(0)}–${p.end.toFixed(0)}${p.bytes ? ` · ${p.bytes} B` : ""}` : "–");
  const columns = Object.keys(traced);
  const title: Record<string, string> = { store: "store", gzip: "gzip OME-Zarr", baseline: "store, baseline viewer" };
  const names = [...new Set(columns.flatMap((c) => rows(c).map((p) => p.phase)))];
  const md = [
    "# bench:store-profile", "",
    `The first complete frame of bench:store's view at ${THROTTLE.downloadMbit} Mbit/s (${THROTTLE.latencyMs} ms latency), the trailmap store${values.quick ? " (--quick fit)" : ""} against its gzip OME-Zarr.`,
    `Untraced, median of ${runs}: store ${figure.store_ms} ms, gzip ${figure.gzip_ms} ms (${figure.ratio}×)${baseline ? `; the baseline viewer on the same store, interleaved: ${median(baselineRuns.map((r) => r.ms)).toFixed(0)} ms (runs ${baselineRuns.map((r) => r.ms.toFixed(0)).join(", ")}; this viewer's ${untraced["store"]!.map((r) => r.ms.toFixed(0)).join(", ")})` : ""}. Load average at the start ${startLoad[0]!.toFixed(1)} on ${availableParallelism()} cores (noisy).`, "",
    `${tracedRuns} traced run(s) each (tracing slows the page: ${columns.map((c) => `${title[c]} ${tracedAll[c]!.map((x) => x.run.ms.toFixed(0)).join(", ")} ms`).join("; ")}).`, "",
    `Where the time goes, medians over the traced runs (ms; consecutive segments, so each column sums to about its ready frame):`, "",
    `| segment | ${columns.map((c) => title[c]).join(" | ")} |`, `| --- |${columns.map(() => " --- |").join("")}`,
    ...criticalPath(traced[columns[0]!]!.timeline).map((seg, i) => `| ${seg.segment} | ${columns.map((c) => median(tracedAll[c]!.map((x) => criticalPath(x.timeline)[i]!.ms)).toFixed(0)).join(" | ")} |`),
    "",
    `Phases of each side's traced run of median length. Each cell: count · first start–last end, ms from the layer's addition · bytes (as sent: headers included).`, "",
    `| phase | ${columns.map((c) => title[c]).join(" | ")} |`, `| --- |${columns.map(() => " --- |").join("")}`,
    ...names.map((n) => `| ${n} | ${columns.map((c) => cell(rows(c).find((p) => p.phase === n))).join(" | ")} |`),
    "", "Requests of the traced store run (start / response / end, ms):", "", "| request | method | kind | bytes | start | response | end |", "| --- | --- | --- | --- | --- | --- | --- |",
    ...((t) => { const kinds = requestKinds(t.requests); return t.requests.map((r, i) => `| ${r.url} | ${r.method} | ${kinds[i]} | ${r.bytes} | ${r.start.toFixed(0)} | ${r.response.toFixed(0)} | ${r.end.toFixed(0)} |`); })(traced["store"]!.timeline),
    "",
  ];
  for (const side of columns) {
    const t = traced[side]!.timeline;
    const kinds = requestKinds(t.requests);
    const chunks = t.requests.filter((_, i) => kinds[i] === "chunk");
    const firstChunk = Math.min(...chunks.map((r) => r.end)), lastChunk = Math.max(...chunks.map((r) => r.end));
    const lastDecode = Math.max(...t.decodes.map((d) => d.end));
    log(`${side} (traced, ${traced[side]!.run.ms.toFixed(0)} ms): first chunk received ${firstChunk.toFixed(0)} ms, first decode starts ${t.decodes[0]?.start.toFixed(0) ?? "–"} ms; last chunk received ${lastChunk.toFixed(0)} ms, last decode ends ${lastDecode.toFixed(0)} ms; ready ${t.ready.toFixed(0)} ms`);
  }
  log(md.join("\n"));
  writeFileSync(join(ROOT, "bench", "results", "store-profile.md"), md.join("\n"));
  if (values.json) console.log(JSON.stringify({ first_frame_store_25mbit_ms: figure.store_ms, first_frame_gzip_25mbit_ms: figure.gzip_ms, ratio: figure.ratio, runs }));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
