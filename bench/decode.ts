/**
 * `npm run bench:decode [-- --json] [-- --volumes a,b] [-- --iterations K] [-- --any-fit-version]`: decode speed, synthetic and real.
 *  - Synthetic (`synthetic` in --volumes; kept for continuity, its own JSON line, printed first): a 100×647×813 uint16 volume from 20,693
 *    neuron-like Gaussians (the paper's volume size and Gaussian count), full decode on all cores and
 *    the median latency of 64³ chunk decodes at scales 0 and 2 on one thread; full_cpu_ms is the CPU time of
 *    the whole process (all threads) over a full decode, median of the same runs (the figure that holds on a
 *    shared machine).
 *  - Real fits: every volume of ../shared/data and the demo's light-sheet block, fitted at 0.073 bpp
 *    (packed; `--iterations K` fitter steps for the shared volumes, the fitter's default otherwise) once
 *    and cached under .cache/ (bench/stream-cache.ts). Per volume, one JSON line
 *    `{"volume","voxels","gaussians","full_ms","mvox_s","chunk64_median_ms","chunk64_p95_ms","hevc_mvox_s"}`:
 *    full decode by DecodePool (worker threads; the calling thread below 1 M voxels), median of 3
 *    after a warm-up; 64³ chunks over every 64³-aligned chunk (a fixed sample of 200 beyond that),
 *    one thread, in process, after the per-file setup (each chunk's median of 3 passes); and x265's decode of the same volume at the
 *    same bytes as bench:rd runs it (ffmpeg process start, file I/O and conversion included, ffmpeg's
 *    default threads: all cores), median of 3 after a warm-up. hevc_mvox_s is null without ffmpeg.
 *    Each line ends with "kernel": the decoder's path that ran, "wasm" (the WebAssembly SIMD kernel,
 *    in the pool's threads and in process, where dist/wasm is built) or "js" (VMG_DECODE_KERNEL=js,
 *    or no build).
 * The whole `vmg decode` process against ffmpeg's, on the same fits and streams: bench/decode-cli.ts.
 */
import { availableParallelism } from "node:os";
import { levelFactors, scaledShape, VmgDecoder } from "../src/decode/decoder.js";
import { readVmg, writeVmg } from "../src/format/vmg.js";
import { DecodePool } from "../src/node/decode-pool.js";
import { syntheticNeuron } from "../src/synthetic/neuron.js";
import { Random } from "../src/core/random.js";
import { loadavg } from "node:os";
import { alignedChunks, demoBlock, manifestVolumes } from "./bench-volumes.js";
import { videoCodec } from "./codecs/video.js";
import { cachedFit, cachedHevc } from "./stream-cache.js";

const json = process.argv.includes("--json");
// with --json, stdout holds only the JSON lines and the readable report goes to stderr
const log = (s: string) => { if (json) process.stderr.write(s + "\n"); else console.log(s); };
const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const only = flag("--volumes")?.split(",");
// --any-fit-version: the newest cached fit of each volume whatever fitter version made it (no refit)
const anyFitterVersion = process.argv.includes("--any-fit-version");
// fitter steps for the ../shared/data volumes (the fitter's default when absent; the demo block keeps the demo's)
const iterations = flag("--iterations") !== undefined ? Number(flag("--iterations")) : undefined;
log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(", ")} (${availableParallelism()} cores)`);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const threads = availableParallelism();

/** The synthetic case ("synthetic" in --volumes), unchanged since before the real fits. */
async function synthetic(): Promise<void> {
  const shape = [100, 647, 813] as const;
  const bytes = writeVmg(syntheticNeuron({ shape, gaussians: 20693, seed: 1 }));
  const file = readVmg(bytes);
  const voxels = shape[0] * shape[1] * shape[2];
  log(`volume ${shape.join("×")} uint16 (${(voxels / 1e6).toFixed(1)} M voxels), ${file.count} Gaussians, ${bytes.length} bytes`);

  const pool = await DecodePool.create(bytes, threads);
  await pool.decode(); // warm-up: workers prepare kernels and JIT the sampler
  const fullRuns: number[] = [], cpuRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now(), c = process.cpuUsage();
    await pool.decode();
    fullRuns.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpuRuns.push((u.user + u.system) / 1000); // every thread of the process: the workers' decode, the output's page faults
  }
  await pool.close();
  const fullMs = median(fullRuns), fullCpuMs = median(cpuRuns);
  log(`full decode (${threads} threads): median ${fullMs.toFixed(0)} ms of ${fullRuns.map((x) => x.toFixed(0)).join(", ")}; CPU (all threads) median ${fullCpuMs.toFixed(0)} ms`);

  let kernel = "js";
  function chunkLatency(level: number): number {
    const decoder = new VmgDecoder(file);
    const factors = levelFactors(level);
    const [nz, ny, nx] = scaledShape(shape, factors);
    const rng = new Random(level + 5);
    const times: number[] = [];
    const scratch = new Float32Array(64 ** 3);
    decoder.scale(factors); // per-file setup, done once when a layer opens
    for (let i = 0; i < 200; i++) {
      const z0 = rng.int(Math.max(1, nz - 63)), y0 = rng.int(Math.max(1, ny - 63)), x0 = rng.int(Math.max(1, nx - 63));
      const box = { z0, z1: Math.min(nz, z0 + 64), y0, y1: Math.min(ny, y0 + 64), x0, x1: Math.min(nx, x0 + 64) };
      const t = performance.now();
      decoder.decode(box, factors, undefined, scratch);
      times.push(performance.now() - t);
    }
    kernel = decoder.lastPath;
    return median(times.slice(20));
  }
  // Reading the payload: float16 records vs the packed encoding of the same Gaussians (the packed
  // stream is range-decoded once per file, before any voxel is decoded).
  const packedBytes = writeVmg({ ...file, header: { ...file.header, encoding: "packed" } });
  const parseMs = (b: Uint8Array) => {
    readVmg(b);
    const runs: number[] = [];
    for (let i = 0; i < 7; i++) { const t = performance.now(); readVmg(b); runs.push(performance.now() - t); }
    return median(runs);
  };
  const parseF16 = parseMs(bytes), parsePacked = parseMs(packedBytes);
  log(`payload decode: float16 ${parseF16.toFixed(1)} ms, packed ${parsePacked.toFixed(1)} ms (${packedBytes.length} bytes, ${((packedBytes.length - 124) / file.count).toFixed(2)} bytes/Gaussian); packed adds ${((100 * (parsePacked - parseF16)) / fullMs).toFixed(1)}% to a full decode`);

  const chunk0 = chunkLatency(0);
  const chunk2 = chunkLatency(2);
  log(`64³ chunk, scale 0: median ${chunk0.toFixed(2)} ms; scale 2: median ${chunk2.toFixed(2)} ms`);
  const result = {
    voxels, gaussians: file.count, full_ms: round(fullMs), full_cpu_ms: round(fullCpuMs), mvox_s: round(voxels / 1e6 / (fullMs / 1000)),
    chunk64_ms: round(chunk0), chunk64_scale2_ms: round(chunk2),
    parse_f16_ms: round(parseF16), parse_packed_ms: round(parsePacked), packed_bytes: packedBytes.length,
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024), kernel,
  };
  if (json) console.log(JSON.stringify(result));
  log(`throughput ${result.mvox_s} MVox/s, peak RSS ${result.peak_rss_mb} MB`);
}
if (!only || only.includes("synthetic")) await synthetic();

// ---- real fits ------------------------------------------------------------------------------

/** Median of 3 timed runs after one warm-up. */
async function medianOf3(run: () => Promise<number>): Promise<number> {
  await run();
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) runs.push(await run());
  return median(runs);
}

const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!; };

const hevc = videoCodec("hevc");
for (const v of [...manifestVolumes(iterations), demoBlock()].filter((b) => !only || only.includes(b.name))) {
  const volume = await v.load();
  const voxels = volume.data.length;
  const fit = await cachedFit(volume, v.name, v.settings, log, anyFitterVersion);
  const vmg = readVmg(fit.bytes);

  const pool = await DecodePool.create(fit.bytes, threads);
  const full = await medianOf3(async () => { const t = performance.now(); await pool.decode(); return performance.now() - t; });
  await pool.close();

  const decoder = new VmgDecoder(vmg);
  decoder.scale([1, 1, 1]); // per-file setup, done once when a layer opens
  const chunks = alignedChunks(volume.shape, 200);
  const scratch = new Float32Array(64 ** 3);
  for (const box of chunks.slice(0, 8)) decoder.decode(box, undefined, undefined, scratch); // JIT warm-up
  // each chunk's time is its median of 3 passes, so that a scheduling stall on a busy machine is not a chunk's latency
  const passes = [0, 1, 2].map(() => chunks.map((box) => { const t = performance.now(); decoder.decode(box, undefined, undefined, scratch); return performance.now() - t; }));
  const chunkMs = chunks.map((_, i) => median(passes.map((p) => p[i]!)));

  const stream = await cachedHevc(volume, v.name, fit.bytes.length, log);
  const hevcMs = stream ? await medianOf3(async () => (await hevc.decode(stream.bytes)).seconds * 1000) : undefined;

  const row = {
    volume: v.name, voxels, gaussians: vmg.count, full_ms: round(full), mvox_s: round(voxels / 1e3 / full),
    chunk64_median_ms: round(median(chunkMs)), chunk64_p95_ms: round(quantile(chunkMs, 0.95)),
    hevc_mvox_s: hevcMs === undefined ? null : round(voxels / 1e3 / hevcMs), kernel: decoder.lastPath,
  };
  if (json) console.log(JSON.stringify(row));
  log(`${v.name}: ${volume.shape.join("×")} ${volume.dtype}, ${vmg.count} Gaussians, ${fit.bytes.length} bytes (fit ${fit.seconds.toFixed(0)} s${fit.fresh ? ", this run" : ", cached"})`);
  log(`  [${row.kernel}] full decode ${row.full_ms} ms = ${row.mvox_s} MVox/s | 64³ chunk (${chunks.length}) median ${row.chunk64_median_ms} ms, p95 ${row.chunk64_p95_ms} ms | ` +
    (stream && hevcMs !== undefined ? `HEVC ${stream.bytes.length} bytes: ${hevcMs.toFixed(0)} ms = ${row.hevc_mvox_s} MVox/s` : "HEVC: ffmpeg with libx265 not found"));
}
log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
