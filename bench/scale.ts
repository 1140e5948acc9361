/**
 * `npm run bench:scale [-- --json] [-- --quick]`: the chunked store's throughput and how it scales,
 * measured as a user runs it — `vmg compress <in> -o <store> --threads T` through the compiled CLI
 * (bin/vmg.mjs) in a child process, timed from spawn to exit (`--blocks 0/1`, which writes the
 * whole store and skips the CLI's own evaluation; `vmg eval` scores it after):
 *  - MVox/s (input voxels per second) with 1 and 2 worker threads on the same input;
 *  - the same data at 1× and 8× the voxels (the input tiled 2×2×2, mirrored so that tiles meet
 *    without seams; generated as a TIFF in a temporary folder): time ratio and the peak RSS of the
 *    vmg process (worker threads included: process.resourceUsage().maxRSS read at exit by a
 *    preloaded probe, bench/rss-probe.mjs, which also gives the CPU time: `mvox_s_per_core` is input
 *    voxels per CPU-second of the 1-thread run, steadier than wall time on a shared machine);
 *  - the cost of an empty block (cellfinder's chunks with nothing above the gate, median) and of
 *    a full one (trailmap's central 64³ chunk with the default halo and the store's default iterations): fitChunk
 *    in this process on one thread, in CPU time (what a worker's core spends on it);
 *  - PSNR of the store's finest level against a single-file fit of the same input at that level's
 *    bytes (the coarser levels are the store's extra, as bench:store compares), the file at its own
 *    default iterations: today's single-file fit;
 *  - the fraction of empty chunks of the cellfinder serial two-photon section (the closest to a
 *    brain section here) and from it a projection of the hours to compress 10^11 and 10^12 voxels
 *    on N workers: chunks × (empty fraction × empty cost + the rest × full cost) / N, with 8/7 the
 *    chunks for the pyramid's coarser levels.
 * Default input: the 303³ trailmap volume at the store's defaults (hours on a loaded machine);
 * `--quick`: its central 64×256×256 crop in 32³ chunks (149 blocks over four levels, so two threads
 * have work to share; 2²² voxels, the least that small-store steps leave at the default) at the store's default iterations. Results go to
 * bench/results/scale.json|md; `--json` prints one line. Wall-clock figures are noisy on a shared
 * machine: each run's load average is recorded, and the parallel fraction is computed from CPU time
 * too (the main thread's CPU, read at exit by the probe, against the process's).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { allocVoxels } from "../src/core/dtype.js";
import type { Shape3 } from "../src/core/gaussian.js";
import type { Volume } from "../src/core/volume.js";
import { DEFAULT_ITERATIONS } from "../src/fit/fitter.js";
import { installedFitKernel } from "../src/fit/objective.js";
import { robustMapping } from "../src/fit/prepare.js";
import { encodeTiffStack } from "../src/io/tiff.js";
import { writeFileAtomic } from "../src/node/atomic-write.js";
import { openVolume } from "../src/node/open-volume.js";
import { fitChunk, gatedChunk, type ChunkJob } from "../src/store/block-fit.js";
import { DEFAULT_HALO, DEFAULT_STORE_ITERATIONS, levelCount } from "../src/store/plan.js";
import { blockJobAt, chunkOrigins } from "./block-job.js";
import { DATA_DIR } from "./bench-volumes.js";
// the block costs below are fitted in this process: on the WebAssembly kernel, as the CLI's fit threads do
import "../src/node/wasm-kernel.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const log = (s: string) => process.stderr.write(`bench:scale: ${s}\n`);
const CHUNK = 64, BPP = 0.073, STORE_ITERATIONS = DEFAULT_STORE_ITERATIONS;
// --quick: 32³ chunks, so its 4.2 MVox make 149 blocks over four levels and 2 threads have work to share;
// 2²² voxels, the smallest store fitted at the default steps (block-fit.ts SMALL_STORE_VOXELS): a smaller
// crop's blocks get up to 3.75× the steps and its 8× tiling does not, so the time ratio would compare
// unequal work
const iterations = STORE_ITERATIONS, storeChunk = quick ? 32 : CHUNK;
const vmg = fileURLToPath(new URL("../bin/vmg.mjs", import.meta.url));
const probe = fileURLToPath(new URL("./rss-probe.mjs", import.meta.url));
const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));

interface Run { seconds: number; cpuSeconds: number; mainCpuSeconds: number | null; peakMb: number; stdout: string; load: number }

/** `vmg …` in a child process: wall seconds from spawn to exit, its CPU seconds (all threads, and its main thread's), peak RSS, stdout, and the machine's 1-minute load average as it started. */
async function runVmg(argv: string[], dir: string): Promise<Run> {
  const rssFile = join(dir, `rss-${Math.random().toString(36).slice(2)}`);
  const load = loadavg()[0]!;
  const t0 = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", probe, vmg, ...argv], { env: { ...process.env, VMG_RSS_FILE: rssFile }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (b: Buffer) => (out += b));
    child.stderr.on("data", (b: Buffer) => (err += b));
    child.on("close", (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`vmg ${argv.join(" ")} exited ${code}: ${stderr.trim().split("\n").at(-1)}`);
  const usage = JSON.parse(await readFile(rssFile, "utf8")) as { maxRSS: number; cpu: number; mainCpu: number | null };
  return { seconds, cpuSeconds: usage.cpu / 1e6, mainCpuSeconds: usage.mainCpu === null ? null : usage.mainCpu / 1e6, peakMb: usage.maxRSS / 1024, stdout, load };
}

function crop(v: Volume, at: Shape3, shape: Shape3): Volume {
  const data = allocVoxels(v.dtype, shape[0] * shape[1] * shape[2]);
  const [, ny, nx] = v.shape;
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) {
    const from = ((at[0] + z) * ny + at[1] + y) * nx + at[2];
    data.set(v.data.subarray(from, from + shape[2]) as never, (z * shape[1] + y) * shape[2]);
  }
  return { shape, dtype: v.dtype, data };
}

/** The volume tiled 2×2×2, every other tile mirrored so that neighbours meet at equal faces. */
function tile8(v: Volume): Volume {
  const [nz, ny, nx] = v.shape;
  const shape: Shape3 = [2 * nz, 2 * ny, 2 * nx];
  const data = allocVoxels(v.dtype, 8 * v.data.length);
  const mirror = (c: number, n: number) => (c < n ? c : 2 * n - 1 - c);
  for (let z = 0, o = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) {
    const row = (mirror(z, nz) * ny + mirror(y, ny)) * nx;
    for (let x = 0; x < shape[2]; x++) data[o++] = v.data[row + mirror(x, nx)]!;
  }
  return { shape, dtype: v.dtype, data };
}

/** fitChunk on this thread: CPU milliseconds (what a worker's core spends, steady under load) and wall milliseconds. */
async function blockCost(job: ChunkJob): Promise<{ cpuMs: number; wallMs: number }> {
  const t = performance.now(), c = process.cpuUsage();
  await fitChunk(job);
  const u = process.cpuUsage(c);
  return { cpuMs: (u.user + u.system) / 1000, wallMs: performance.now() - t };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const trailmap = await openVolume(`${DATA_DIR}trailmap_lightsheet_axons_303x303x303_u16.tif`);
const cellfinder = await openVolume(`${DATA_DIR}cellfinder_serial2p_signal_26x1116x627_u16.tif`);
const base = quick ? crop(trailmap, [119, 23, 23], [64, 256, 256]) : trailmap;
const dir = await mkdtemp(join(tmpdir(), "vmg-bench-scale-"));
try {
  const baseTif = join(dir, "base.tif"), bigTif = join(dir, "tiled8.tif");
  await writeFile(baseTif, encodeTiffStack(base));
  await writeFile(bigTif, encodeTiffStack(tile8(base)));
  const voxels = base.data.length;
  const storeArgs = (input: string, out: string, threads: number) =>
    ["compress", input, "-o", out, "--bpp", String(BPP), "--chunk", String(storeChunk), "--iterations", String(iterations), "--threads", String(threads), "--blocks", "0/1", "--json"];

  log(`${base.shape.join("×")} input (${(voxels / 1e6).toFixed(2)} MVox), ${storeChunk}³ chunks, ${iterations} iterations: 1 worker thread…`);
  const one = await runVmg(storeArgs(baseTif, join(dir, "t1.ome.zarr"), 1), dir);
  log(`${one.seconds.toFixed(1)} s; 2 worker threads…`);
  const two = await runVmg(storeArgs(baseTif, join(dir, "t2.ome.zarr"), 2), dir);
  log(`${two.seconds.toFixed(1)} s; 8× the voxels (${tile8Shape(base.shape).join("×")}), 2 worker threads…`);
  const big = await runVmg(storeArgs(bigTif, join(dir, "t8.ome.zarr"), 2), dir);
  log(`${big.seconds.toFixed(1)} s; scoring the store, then a single-file fit at its finest level's bytes…`);
  const storeEval = JSON.parse((await runVmg(["eval", join(dir, "t1.ome.zarr"), "--ref", baseTif, "--json"], dir)).stdout) as { psnr: number };
  const storeBytes = JSON.parse((await runVmg(["info", join(dir, "t1.ome.zarr"), "--json"], dir)).stdout) as { bytes: number; levels: Array<{ bytes: number }> };
  const finestBytes = storeBytes.levels[0]!.bytes;
  const single = await runVmg(["compress", baseTif, "-o", join(dir, "single.vmg"), "--size", String(finestBytes), "--threads", "2", "--json"], dir);
  const singleLine = JSON.parse(single.stdout.trim().split("\n").at(-1)!) as { psnr: number; bytes: number; seconds: number };

  log("block costs: an empty block, a full one…");
  const cellMapping = robustMapping(cellfinder, "cellfinder");
  const cellJobs = chunkOrigins(cellfinder.shape, CHUNK).map((at) => blockJobAt(cellfinder, at, { chunk: CHUNK, halo: DEFAULT_HALO, bpp: BPP, iterations: STORE_ITERATIONS }, cellMapping));
  const emptyJobs = cellJobs.filter((j) => gatedChunk(j) !== undefined);
  const emptyFraction = emptyJobs.length / cellJobs.length;
  const emptyRuns: number[] = [];
  for (let i = 0; i < 21 && emptyJobs.length; i++) emptyRuns.push((await blockCost(emptyJobs[i % emptyJobs.length]!)).cpuMs);
  const emptyMs = emptyJobs.length ? median(emptyRuns) : NaN;
  const full = await blockCost(blockJobAt(trailmap, [119, 119, 119], { chunk: CHUNK, halo: DEFAULT_HALO, bpp: BPP, iterations: STORE_ITERATIONS }));
  const fullMs = full.cpuMs;

  // projection from the per-block costs: chunks of level 0 plus 1/7 more for the coarser levels
  const hours = (v: number, workers: number) => ((v / CHUNK ** 3) * (8 / 7) * (emptyFraction * emptyMs + (1 - emptyFraction) * fullMs)) / workers / 3.6e6;
  const workerCounts = [1, 2, 16, 100, 1000];
  const projection = [1e11, 1e12].map((v) => ({ voxels: v, hours: Object.fromEntries(workerCounts.map((n) => [n, Number(hours(v, n).toFixed(2))])) }));

  const line = {
    mvox_s_1: voxels / 1e6 / one.seconds, mvox_s_2: voxels / 1e6 / two.seconds,
    time_ratio_8x: big.seconds / two.seconds, peak_rss_mb_1x: two.peakMb, peak_rss_mb_8x: big.peakMb,
    empty_block_ms: emptyMs, full_block_ms: fullMs, mvox_s_per_core: voxels / 1e6 / one.cpuSeconds,
    psnr_store: storeEval.psnr, psnr_single_file: singleLine.psnr, projected_hours_1e11_100_workers: hours(1e11, 100),
  };
  // the parallel fraction from CPU time: the main thread's CPU is the run's serial part (reads, planning
  // walk, gate, assembly, start-up), the rest ran on worker threads; Amdahl then bounds 2 threads
  const parallelFraction = one.mainCpuSeconds === null ? null : 1 - one.mainCpuSeconds / one.cpuSeconds;
  const amdahl2 = parallelFraction === null ? null : 1 / (1 - parallelFraction + parallelFraction / 2);
  // the 2-thread run on two idle cores, from its own CPU: its main thread's CPU, the rest shared by two cores
  const idle2 = two.mainCpuSeconds === null ? null : Math.max(two.mainCpuSeconds, two.cpuSeconds / 2);
  const phases = (r: Run) => (JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { phases?: unknown }).phases ?? null;
  const record = {
    ...line, quick, fit_kernel: installedFitKernel(), input: base.shape, voxels, iterations, bpp: BPP, chunk: storeChunk, block_cost_chunk: CHUNK,
    load_average_1min: { threads_1: one.load, threads_2: two.load, tiled_8x_threads_2: big.load, single_file_threads_2: single.load },
    main_thread_cpu_seconds: { threads_1: one.mainCpuSeconds, threads_2: two.mainCpuSeconds, tiled_8x_threads_2: big.mainCpuSeconds },
    speedup_2_wall: one.seconds / two.seconds, speedup_2_cpu: idle2 === null ? null : one.cpuSeconds / idle2,
    parallel_fraction_cpu: parallelFraction, amdahl_speedup_2: amdahl2,
    phases: { threads_1: phases(one), threads_2: phases(two), tiled_8x_threads_2: phases(big) },
    seconds: { threads_1: one.seconds, threads_2: two.seconds, tiled_8x_threads_2: big.seconds, single_file_threads_2: single.seconds },
    cpu_seconds: { threads_1: one.cpuSeconds, threads_2: two.cpuSeconds, tiled_8x_threads_2: big.cpuSeconds, single_file_threads_2: single.cpuSeconds },
    time_ratio_8x_cpu: big.cpuSeconds / two.cpuSeconds, mvox_s_per_core_wall: voxels / 1e6 / one.seconds,
    peak_rss_mb_threads_1: one.peakMb, full_block_wall_ms: full.wallMs, store_bytes: storeBytes.bytes, store_finest_level_bytes: finestBytes, single_file_iterations: DEFAULT_ITERATIONS, single_file_bytes: singleLine.bytes,
    single_file_mvox_s_per_core: voxels / 1e6 / single.cpuSeconds,
    empty_fraction_cellfinder: emptyFraction, cellfinder_chunks: cellJobs.length, projection,
    measured: new Date().toISOString().slice(0, 10),
  };
  await writeFileAtomic(join(resultsDir, "scale.json"), new TextEncoder().encode(JSON.stringify(record, null, 1) + "\n"));
  const f = (x: number, d = 2) => x.toFixed(d);
  const fn = (x: number | null, d = 2) => (x === null ? "n/a" : x.toFixed(d));
  const md = [
    `# bench:scale${quick ? " --quick" : ""}`, "",
    `Input ${base.shape.join("×")} of trailmap (${f(voxels / 1e6)} MVox, uint16), ${BPP} bpp, ${storeChunk}³ chunks (${blockCount(base.shape, storeChunk)} blocks), ${iterations} iterations; the compiled CLI in a child process, wall time from spawn to exit. Measured on a shared 2-core machine (1-minute load average as each run started in brackets): wall times are noisy, CPU times steadier.`, "",
    "| measure | value |", "| --- | ---: |",
    `| MVox/s, 1 worker thread | ${f(line.mvox_s_1, 3)} (per CPU-second of the process: ${f(line.mvox_s_per_core, 3)}) [load ${f(one.load, 1)}] |`, `| MVox/s, 2 worker threads | ${f(line.mvox_s_2, 3)} (${f(line.mvox_s_2 / line.mvox_s_1)}×) [load ${f(two.load, 1)}] |`,
    `| 1 / 2 threads: wall, CPU (main thread) | ${f(one.seconds, 1)} s, ${f(one.cpuSeconds, 1)} s (${fn(one.mainCpuSeconds)} s) / ${f(two.seconds, 1)} s, ${f(two.cpuSeconds, 1)} s (${fn(two.mainCpuSeconds)} s) |`,
    `| parallel fraction from CPU (1 − main thread / process, 1 thread); Amdahl's bound for 2 | ${fn(parallelFraction, 3)}; ${fn(amdahl2)}× |`,
    `| 2 threads on two idle cores, from the run's CPU (max(main thread, process / 2)) | ${fn(record.speedup_2_cpu)}× |`,
    `| 8× the voxels (${tile8Shape(base.shape).join("×")}, tiled), time ratio | ${f(line.time_ratio_8x)} (CPU time: ${f(record.time_ratio_8x_cpu)}) |`,
    `| 8× the voxels, 2 threads: wall, CPU | ${f(big.seconds, 1)} s, ${f(big.cpuSeconds, 1)} s [load ${f(big.load, 1)}] |`,
    `| peak RSS of the vmg process, 1× / 8× | ${f(line.peak_rss_mb_1x, 0)} MB / ${f(line.peak_rss_mb_8x, 0)} MB |`,
    `| empty block (gate + background chunk), CPU | ${f(emptyMs, 3)} ms |`, `| full block (${CHUNK + 2 * DEFAULT_HALO}³ with the default halo, ${STORE_ITERATIONS} iterations, 1 thread), CPU | ${f(fullMs, 0)} ms (${f(fullMs / emptyMs, 0)}× the empty one) |`,
    `| PSNR store (finest level, ${finestBytes} of its ${storeBytes.bytes} bytes) / single file at ${finestBytes} bytes, ${DEFAULT_ITERATIONS} iterations | ${f(line.psnr_store)} dB / ${f(line.psnr_single_file)} dB |`,
    `| single-file fit, MVox/s per CPU-second | ${f(record.single_file_mvox_s_per_core, 3)} |`,
    `| empty chunks of the cellfinder section | ${cellJobs.length - emptyJobs.length} fitted, ${emptyJobs.length} empty of ${cellJobs.length} (${f(100 * emptyFraction, 1)} %) |`, "",
    "Projected hours (per-block costs above, cellfinder's empty fraction, +1/7 chunks for the coarser levels):", "",
    `| voxels | ${workerCounts.map((n) => `${n} worker${n > 1 ? "s" : ""}`).join(" | ")} |`, `| --- | ${workerCounts.map(() => "---:").join(" | ")} |`,
    ...projection.map((p) => `| ${p.voxels.toExponential(0)} | ${workerCounts.map((n) => p.hours[n]).join(" | ")} |`), "",
  ].join("\n");
  await writeFileAtomic(join(resultsDir, "scale.md"), new TextEncoder().encode(md));
  if (json) console.log(JSON.stringify(line));
  else console.log(md);
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Chunks of every level of a store of `shape` in `chunk`³ chunks. */
function blockCount(shape: Shape3, chunk: number): number {
  let n = 0, s = [...shape];
  for (let l = 0; l < levelCount(shape, chunk); l++, s = s.map((v) => Math.ceil(v / 2))) n += s.reduce((p, v) => p * Math.ceil(v / chunk), 1);
  return n;
}

function tile8Shape(s: Shape3): Shape3 {
  return [2 * s[0], 2 * s[1], 2 * s[2]];
}
