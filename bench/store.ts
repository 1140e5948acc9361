/**
 * `npm run bench:store [-- --json] [--quick] [--runs N]`: the chunked Gaussian store (issue #14 item 6).
 *
 *  - Quality (trailmap 303³ and DIADEM, 0.073 bpp): the store (`vmg compress … -o x.ome.zarr`,
 *    64³ chunks in 256³ shards) against one `.vmg` of the same bytes as the store's finest level,
 *    both fitted by the compiled CLI in a child process (its wall time and peak RSS are fit_seconds
 *    and peak_rss_mb) and cached (bench/store-fits.ts); PSNR/SSIM of level 0 and of the file, PSNR
 *    of the voxels within 2 of an internal chunk face against the rest, the coarser levels' share.
 *  - Streaming: a 2304³ (1.2·10^10-voxel) store tiled from the trailmap store's encoded chunks
 *    (bench/store-tile.ts: hard links, no fit) and the 303³ store, served by demo/server.ts; in
 *    Chromium, the time to the first complete frame of the same 200×150-voxel xy view in each
 *    (bench/store-browser.ts says how it is detected), the bytes the big store's view fetched and
 *    the bytes of the chunks that intersect it; at 25 Mbit/s (20 ms latency), the 303³ store against
 *    a gzip OME-Zarr multiscale of the original data (64³ chunks, the same levels).
 *  - Chunk decode: the 303³ store's level-0 chunks, decoded in Node by the codec (one thread, in
 *    process) and in Chromium by the viewer's async-computation worker; medians of per-chunk medians.
 *  - A screenshot of the tiled store's view, docs/store-tiled.png.
 *
 * `--quick`: both fits with 20 fitter steps (cached apart from the full ones) and one run per
 * timing; its output says so. `--json` prints one line (trailmap's figures; keys of issue #14);
 * the log (stderr with --json) has DIADEM's; both go to bench/results/store.json and store.md.
 * Timings are wall-clock on a shared machine: noisy; the ratios within one run are the figures
 * to read.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../demo/build.js";
import type { Shape3 } from "../src/core/gaussian.js";
import { openVolume } from "../src/node/open-volume.js";
import { gaussianStoreInfo } from "../src/node/store-reader.js";
import { decodeChunk } from "../src/store/codec/chunk.js";
import { chunkDType } from "../src/store/codec/config.js";
import { BENCH_BPP, DATA_DIR } from "./bench-volumes.js";
import { writeGzipStore } from "./store-gzip.js";
import { StoreBrowser, type FrameRun, type View } from "./store-browser.js";
import { storeQuality, STORE_CHUNK, type StoreQuality } from "./store-quality.js";
import { levelChunks, TILE, writeTiledStore } from "./store-tile.js";
import { storeView, THROTTLE, VIEW_CENTRE, ZOOM } from "./store-view.js";

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
  },
});
const quick = values.quick;
const runs = Math.max(1, Number(values.runs ?? (quick ? 1 : 3)));
const log = (s: string) => (values.json ? process.stderr.write(`${s}\n`) : console.log(s));
const TRAILMAP = "trailmap_lightsheet_axons_303x303x303_u16";
const DIADEM = "diadem_OP9_crop_92x77x86_u8";
const BIG: Shape3 = [9 * TILE, 9 * TILE, 9 * TILE];
const NODE_REPS = 5;

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)]! : NaN; };
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const startLoad = loadavg();
log(`bench:store${quick ? " --quick (20 fitter steps per fit, one run per timing: not the full benchmark)" : ""}; load average ${startLoad.map((x) => x.toFixed(2)).join(", ")}`);
const fitOptions = { bpp: BENCH_BPP, log, ...(quick ? { iterations: 20 } : {}) };

function qualityLine(q: StoreQuality): Record<string, number | null> {
  return {
    store_psnr: round(q.storeMetrics.psnr), store_ssim: round(q.storeMetrics.ssim, 4),
    file_psnr: round(q.fileMetrics.psnr), file_ssim: round(q.fileMetrics.ssim, 4),
    store_bytes: q.storeBytes, finest_level_bytes: q.finestLevelBytes, file_bytes: q.fileBytes,
    face_psnr: round(q.storeMetrics.face), interior_psnr: round(q.storeMetrics.interior),
  };
}

function logQuality(q: StoreQuality): void {
  const s = q.storeMetrics, f = q.fileMetrics;
  log(`${q.volume} ${q.shape.join("x")}: store ${q.storeBytes} bytes (levels ${q.levelBytes.join(", ")}; coarser levels ${(100 * q.coarserShare).toFixed(1)}%), fit ${q.store.seconds.toFixed(1)} s, peak RSS ${q.store.peakRssMb?.toFixed(0) ?? "?"} MB${q.store.fresh ? "" : " (cached fit)"}`);
  log(`  store level 0: PSNR ${s.psnr.toFixed(2)} dB, SSIM ${s.ssim.toFixed(4)}; at chunk faces ${s.face.toFixed(2)} dB, interior ${s.interior.toFixed(2)} dB (face − interior ${(s.face - s.interior).toFixed(2)} dB)`);
  log(`  .vmg of ${q.fileBytes} bytes: PSNR ${f.psnr.toFixed(2)} dB, SSIM ${f.ssim.toFixed(4)} (same voxels: faces ${f.face.toFixed(2)}, interior ${f.interior.toFixed(2)}), fit ${q.file.seconds.toFixed(1)} s, peak RSS ${q.file.peakRssMb?.toFixed(0) ?? "?"} MB`);
  log(`  store − file: ${(s.psnr - f.psnr).toFixed(2)} dB PSNR, ${(s.ssim - f.ssim).toFixed(4)} SSIM`);
}

/** The finest level a run read chunks from (paths "<level>/c/…"). */
function finestLevelRead(r: FrameRun): number {
  return Math.min(...r.reads.map((p) => Number(p.split("/")[0])));
}

/**
 * Bytes of the chunks of `level` that the view's plane crosses, over the panel's extent: a
 * level-L voxel j spans level-0 coordinates (j + ½)·2^L − ½ ± 2^(L−1) (OME-Zarr translations are
 * voxel centres, store/plan.ts).
 */
function bytesInView(chunks: Map<string, Uint8Array>, level: number, centre: Shape3, panel: { width: number; height: number }, tile: Shape3): number {
  const f = 2 ** level;
  const toLevel = (x: number) => Math.floor((x + 0.5) / f);
  const half = [0, panel.height / (2 * ZOOM), panel.width / (2 * ZOOM)];
  const range = centre.map((c, a) => [toLevel(c - half[a]!), toLevel(c + half[a]!)].map((j) => Math.floor(j / STORE_CHUNK)));
  let bytes = 0;
  for (let cz = range[0]![0]!; cz <= range[0]![1]!; cz++) for (let cy = range[1]![0]!; cy <= range[1]![1]!; cy++) for (let cx = range[2]![0]!; cx <= range[2]![1]!; cx++) {
    // the tiled store's chunk (cz, cy, cx) holds the source chunk at its position in the tile
    const src = [cz, cy, cx].map((c, a) => c - (tile[a]! * TILE) / f / STORE_CHUNK);
    bytes += chunks.get(src.join("/"))?.length ?? 0;
  }
  return bytes;
}

const results: Record<string, Record<string, number | string | null>> = {};
const md: string[] = [];
const trailmap = await storeQuality(join(DATA_DIR, `${TRAILMAP}.tif`), TRAILMAP, fitOptions);
logQuality(trailmap);
const diadem = await storeQuality(join(DATA_DIR, `${DIADEM}.tif`), DIADEM, fitOptions);
logQuality(diadem);
for (const q of [trailmap, diadem]) {
  results[q.volume] = { ...qualityLine(q), coarser_share: round(q.coarserShare, 4), fit_seconds: round(q.store.seconds, 1), peak_rss_mb: q.store.peakRssMb === null ? null : round(q.store.peakRssMb, 0), file_fit_seconds: round(q.file.seconds, 1) };
}

const tmp = mkdtempSync(join(ROOT, ".cache", "bench-store", "run-")); // beside the fits: hard links need one filesystem
try {
  const small = trailmap.store.path;
  const big = join(tmp, "tiled.ome.zarr");
  const tiled = await writeTiledStore(small, big, BIG);
  log(`tiled store ${BIG.join("x")} (${tiled.voxels.toExponential(2)} voxels, ${tiled.levels} levels): ${tiled.shardFiles} shard files, hard links to ${tiled.distinctFiles} files`);
  const info = await gaussianStoreInfo(small);
  const source = await openVolume(join(DATA_DIR, `${TRAILMAP}.tif`));
  const gzip = join(tmp, "gzip.ome.zarr");
  await writeGzipStore(gzip, source, info.levels.length, TRAILMAP);

  const browser = await StoreBrowser.start({ "/s/small": small, "/s/big": big, "/s/gzip": gzip }, log);
  try {
    const tileAt: Shape3 = [4, 4, 4]; // the middle of the 9³ tiles
    const bigCentre = VIEW_CENTRE.map((c, a) => c + tileAt[a]! * TILE) as unknown as Shape3;
    const view = (mount: string, centre: Shape3): View => storeView(info, `${browser.server.url}${mount.slice(1)}/`, centre);

    const smallRuns: FrameRun[] = [], bigRuns: FrameRun[] = [];
    for (let r = 0; r < runs; r++) {
      smallRuns.push(await browser.firstFrame(view("/s/small", VIEW_CENTRE), "/s/small"));
      bigRuns.push(await browser.firstFrame(view("/s/big", bigCentre), "/s/big"));
    }
    const level = finestLevelRead(bigRuns[0]!);
    const chunks = (await levelChunks(small, level)).chunks;
    const inView = bytesInView(chunks, level, bigCentre, bigRuns[0]!.panel, tileAt);
    const smallInView = bytesInView(chunks, finestLevelRead(smallRuns[0]!), VIEW_CENTRE, smallRuns[0]!.panel, [0, 0, 0]);
    const fetched = median(bigRuns.map((r) => r.bytes));
    log(`first complete frame (${bigRuns[0]!.panel.width}×${bigRuns[0]!.panel.height} px panel, level ${level}): 303³ store ${smallRuns.map((r) => r.ms.toFixed(0)).join(", ")} ms; tiled store ${bigRuns.map((r) => r.ms.toFixed(0)).join(", ")} ms`);
    log(`bytes: tiled store fetched ${bigRuns.map((r) => r.bytes).join(", ")} (${bigRuns.map((r) => r.bytesAtReady).join(", ")} by the ready frame) for ${inView} bytes of chunks in view; the 303³ store fetched ${smallRuns.map((r) => r.bytes).join(", ")} for ${smallInView}`);

    const storeSlow: FrameRun[] = [], gzipSlow: FrameRun[] = [];
    for (let r = 0; r < runs; r++) {
      storeSlow.push(await browser.firstFrame(view("/s/small", VIEW_CENTRE), "/s/small", THROTTLE));
      gzipSlow.push(await browser.firstFrame(view("/s/gzip", VIEW_CENTRE), "/s/gzip", THROTTLE));
    }
    const effective = (r: FrameRun) => ((8 * r.bytesAtReady) / (r.ms / 1000) / 1e6).toFixed(1);
    log(`at ${THROTTLE.downloadMbit} Mbit/s, ${THROTTLE.latencyMs} ms latency: store ${storeSlow.map((r) => `${r.ms.toFixed(0)} ms (${r.bytesAtReady} bytes, ${effective(r)} Mbit/s)`).join(", ")}; gzip OME-Zarr ${gzipSlow.map((r) => `${r.ms.toFixed(0)} ms (${r.bytesAtReady} bytes, ${effective(r)} Mbit/s)`).join(", ")}`);

    // the same chunks in Node and in the browser: every present level-0 chunk of the 303³ store
    const level0 = [...(await levelChunks(small, 0)).chunks.values()];
    const shape: Shape3 = [STORE_CHUNK, STORE_CHUNK, STORE_CHUNK];
    const dtype = chunkDType(info.dtype);
    const nodeMs = level0.map((c) => {
      const t: number[] = [];
      for (let r = 0; r < NODE_REPS; r++) { const t0 = performance.now(); decodeChunk(c, shape, dtype, info.config); t.push(performance.now() - t0); }
      return median(t);
    });
    const browserMs = await browser.chunkDecodeMs(level0, shape, info.dtype, info.config, NODE_REPS);
    log(`64³ chunk decode, ${level0.length} level-0 chunks, median of per-chunk medians of ${NODE_REPS}: Node ${median(nodeMs).toFixed(2)} ms, Chromium worker ${median(browserMs).toFixed(2)} ms (${(median(browserMs) / median(nodeMs)).toFixed(2)}×)`);

    writeFileSync(join(ROOT, "docs", "store-tiled.png"), await browser.screenshot(view("/s/big", bigCentre)));
    log("screenshot of the tiled store's view: docs/store-tiled.png");

    Object.assign(results[TRAILMAP]!, {
      first_frame_big_ms: round(median(bigRuns.map((r) => r.ms)), 0), first_frame_small_ms: round(median(smallRuns.map((r) => r.ms)), 0),
      big_voxels: tiled.voxels, bytes_fetched: fetched, bytes_in_view: inView,
      first_frame_store_25mbit_ms: round(median(storeSlow.map((r) => r.ms)), 0), first_frame_gzip_25mbit_ms: round(median(gzipSlow.map((r) => r.ms)), 0),
      chunk_browser_median_ms: round(median(browserMs)), chunk_node_median_ms: round(median(nodeMs)),
      small_bytes_fetched: median(smallRuns.map((r) => r.bytes)), store_25mbit_bytes: median(storeSlow.map((r) => r.bytes)), gzip_25mbit_bytes: median(gzipSlow.map((r) => r.bytes)),
    });
  } finally {
    await browser.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const KEYS = ["store_psnr", "store_ssim", "file_psnr", "file_ssim", "store_bytes", "finest_level_bytes", "file_bytes", "face_psnr", "interior_psnr",
  "first_frame_big_ms", "first_frame_small_ms", "big_voxels", "bytes_fetched", "bytes_in_view", "first_frame_store_25mbit_ms", "first_frame_gzip_25mbit_ms",
  "chunk_browser_median_ms", "chunk_node_median_ms", "fit_seconds", "peak_rss_mb"] as const;
const line = (name: string) => Object.fromEntries(KEYS.map((k) => [k, results[name]?.[k] ?? null]));
log(`${DIADEM}: ${JSON.stringify(line(DIADEM))}`);
if (values.json) console.log(JSON.stringify(line(TRAILMAP)));
else log(`${TRAILMAP}: ${JSON.stringify(line(TRAILMAP))}`);

const t = results[TRAILMAP]!;
md.push(`# bench:store${quick ? " (--quick: 20 fitter steps, one run per timing)" : ""}`, "",
  "| volume | store PSNR / SSIM | .vmg of level 0's bytes | store − file | faces − interior | coarser levels | store bytes | fit s | peak RSS MB |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const q of [trailmap, diadem]) {
  const s = q.storeMetrics, f = q.fileMetrics;
  md.push(`| ${q.volume} | ${s.psnr.toFixed(2)} / ${s.ssim.toFixed(4)} | ${f.psnr.toFixed(2)} / ${f.ssim.toFixed(4)} | ${(s.psnr - f.psnr).toFixed(2)} dB, ${(s.ssim - f.ssim).toFixed(4)} | ${(s.face - s.interior).toFixed(2)} dB | ${(100 * q.coarserShare).toFixed(1)} % | ${q.storeBytes} | ${q.store.seconds.toFixed(0)} | ${q.store.peakRssMb?.toFixed(0) ?? "–"} |`);
}
const x = (a: string, b: string) => (Number(t[a]) / Number(t[b])).toFixed(2);
md.push("", `Streaming: the trailmap store, an xy view of 200×150 voxels at ${ZOOM} px per voxel, ${runs} run(s), medians; load average at the start ${startLoad[0]!.toFixed(1)} on ${availableParallelism()} cores (noisy).`, "",
  "| figure | measured | target |", "| --- | --- | --- |",
  `| first complete frame, ${Number(t["big_voxels"]).toExponential(2)}-voxel tiled store / 303³ store | ${t["first_frame_big_ms"]} / ${t["first_frame_small_ms"]} ms = ${x("first_frame_big_ms", "first_frame_small_ms")}× | ≤ 1.25× |`,
  `| bytes fetched (tiled store) / bytes of the chunks in view | ${t["bytes_fetched"]} / ${t["bytes_in_view"]} = ${x("bytes_fetched", "bytes_in_view")}× | ≤ 3× |`,
  `| first complete frame at ${THROTTLE.downloadMbit} Mbit/s (${THROTTLE.latencyMs} ms latency), gzip OME-Zarr / store | ${t["first_frame_gzip_25mbit_ms"]} / ${t["first_frame_store_25mbit_ms"]} ms = ${x("first_frame_gzip_25mbit_ms", "first_frame_store_25mbit_ms")}× (${t["gzip_25mbit_bytes"]} / ${t["store_25mbit_bytes"]} bytes) | ≥ 5× |`,
  `| 64³ chunk decode median, Chromium worker / Node | ${t["chunk_browser_median_ms"]} / ${t["chunk_node_median_ms"]} ms = ${x("chunk_browser_median_ms", "chunk_node_median_ms")}× | ≤ 2× |`,
  "", "![the tiled store](../../docs/store-tiled.png)", "");
writeFileSync(join(ROOT, "bench", "results", "store.json"), `${JSON.stringify({ quick, runs, volumes: results }, null, 1)}\n`);
writeFileSync(join(ROOT, "bench", "results", "store.md"), `${md.join("\n")}\n`);
