/**
 * The `vmg` commands on a chunked Gaussian store (an OME-Zarr directory whose chunks use the
 * `volmicro.gaussians` codec): `compress … -o out.ome.zarr`, and `info`, `decode`, `eval` on one.
 */
import { DTYPES } from "../core/dtype.js";
import type { Box } from "../core/background.js";
import { evaluate, evaluateInSlabs, type QualityMetrics } from "../metrics/evaluate.js";
import { writeVolume } from "../node/atomic-write.js";
import { openVolume, openVolumeSource } from "../node/open-volume.js";
import type { VolumeSource } from "../io/region.js";
import { gaussianStoreInfo, readGaussianStore } from "../node/store-reader.js";
import { buildScratch, openPlannedRun, openStoreRun, plannedLevels, planStore, resumedPlan, storeStats, writeGaussianStore, type StoreWriteOptions, type StoreWriteResult } from "../node/store-writer.js";
import type { Volume } from "../core/volume.js";
import { DEFAULT_HALO, DEFAULT_STORE_ITERATIONS } from "../store/plan.js";
import { VolumeWriteError } from "../io/errors.js";
import { parseRedisUrl } from "../queue/connection.js";
import type { EnqueueOptions } from "../queue/coordinator.js";
import { numberFlag, readOptions, stringFlag, UsageError, type Parsed } from "./args.js";
import { failedBlocksError } from "./block-report.js";
import { ProgressBar } from "./progress.js";
import { basename, resolve } from "node:path";

/** An output path that names a store rather than a `.vmg` file. */
export function isStoreOutput(out: string): boolean {
  return /\.zarr\/*$/i.test(out);
}

export async function compressToStore(p: Parsed, input: string, out: string, bppDefault: number): Promise<void> {
  const fileOnly = ["gaussians", "log", "plot", "init", "edge-boost", "sparsity", "lr", "no-densify", "record-source"].filter((k) => p.flags.has(k));
  if (fileOnly.length) throw new UsageError(`--${fileOnly[0]} applies to a .vmg output, not a store (a store takes --bpp or --size, --chunk, --shard, --halo, --allocation, --blocks, --resume, --queue)`);
  if (p.flags.has("bpp") && p.flags.has("size")) throw new UsageError("give one budget: --bpp or --size (got --bpp and --size)");
  const queue = stringFlag(p, "queue");
  if (queue !== undefined) {
    queueUrl(queue);
    if (p.flags.has("blocks")) throw new UsageError("give --queue or --blocks i/N, not both (a queue hands out the blocks itself)");
  } else if (p.flags.has("detach") || p.flags.has("attempts")) throw new UsageError(`--${p.flags.has("detach") ? "detach" : "attempts"} applies to a --queue run`);
  const started = performance.now();
  const json = p.flags.has("json");
  const quiet = json || p.flags.has("quiet");
  const volume = await openVolumeSource(input, readOptions(p, numberFlag(p, "level", { integer: true, min: 0 })));
  if (volume.convertedFrom && !quiet) process.stderr.write(`compress: ${input}: ${volume.convertedFrom} voxels converted to ${volume.dtype}\n`);
  const voxels = volume.shape[0] * volume.shape[1] * volume.shape[2];
  const bytes = p.flags.has("size") ? numberFlag(p, "size", { integer: true, min: 1 })! : Math.floor(((numberFlag(p, "bpp", { min: 1e-9 }) ?? bppDefault) * voxels) / 8);
  const chunk = numberFlag(p, "chunk", { integer: true, min: 4, max: 1024 }) ?? 64;
  const shard = numberFlag(p, "shard", { integer: true, min: chunk }) ?? chunk * 4;
  if (shard % chunk !== 0) throw new UsageError(`--shard ${shard} must be a multiple of --chunk ${chunk}`);
  const allocation = stringFlag(p, "allocation") ?? "slope";
  if (allocation !== "slope" && allocation !== "energy" && allocation !== "uniform") throw new UsageError(`--allocation must be slope, energy or uniform, got "${allocation}"`);
  const encoding = stringFlag(p, "encoding") ?? "packed";
  if (encoding !== "packed" && encoding !== "f16") throw new UsageError(`--encoding must be packed or f16, got "${encoding}"`);
  // poly1 by default: continuous loses 0.13 dB against the single file on trailmap 303³ (the target is 0.1; docs/vmg-zarr-codec.md § 6.2)
  const background = (stringFlag(p, "background") ?? "poly1") as StoreWriteOptions["background"];
  if (!/^(continuous|constant|poly[0-4])$/.test(background)) throw new UsageError(`a store's chunks take --background continuous (one background across the chunks) or constant or poly0..4 (each chunk its own, default poly1; a grid cannot move into a chunk's frame), got "${background}"`);
  const bar = new ProgressBar("compress", quiet);
  const threads = numberFlag(p, "threads", { integer: true, min: 1 });
  const blocks = blocksFlag(p);
  const resume = p.flags.has("resume");
  if (resume && blocks) throw new UsageError("give --blocks i/N or --resume, not both (a --blocks run already skips what is done)");
  const planOnly = p.flags.has("plan-only");
  const other = ["blocks", "resume", "queue"].find((k) => p.flags.has(k));
  if (planOnly && other) throw new UsageError(`give --plan-only or --${other}, not both (--plan-only opens the run the --blocks i/N tasks then fit)`);
  const options: StoreWriteOptions = {
    chunk, shard, bytes, halo: numberFlag(p, "halo", { integer: true, min: 0 }) ?? DEFAULT_HALO,
    iterations: numberFlag(p, "iterations", { integer: true, min: 1 }) ?? DEFAULT_STORE_ITERATIONS, seed: numberFlag(p, "seed", { integer: true, min: 0 }) ?? 1,
    encoding, background, gate: numberFlag(p, "gate", { min: 0, max: 1 }) ?? 0.5, allocation,
    name: basename(input).replace(/\.(tiff?|zarr)$/i, ""), onProgress: (d, t, v) => bar.updateBlocks(d, t, v),
    ...(threads ? { threads } : {}), ...(blocks ? { blocks } : {}), resume,
  };
  if (queue !== undefined) {
    const read = readOptions(p, numberFlag(p, "level", { integer: true, min: 0 }));
    const attempts = numberFlag(p, "attempts", { integer: true, min: 1 }) ?? 3;
    // workers run elsewhere: a local input is named by its absolute path
    const at = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : resolve(input);
    const r = await compressOnQueue(queueUrl(queue), out, volume, options, { input: at, read, attempts }, p.flags.has("detach"), bar, json);
    if (r) await report(r, out, volume, started, bar, json);
    return;
  }
  if (planOnly) return planOnlyStore(out, volume, options, started, bar, json);
  const r = await writeGaussianStore(out, volume, options);
  if (r.failed.length) {
    bar.done();
    throw failedBlocksError(out, r.failed, r.fitted + r.failed.length, `so fix the cause and run the same command again${blocks ? "" : " with --resume"} to fit only these`);
  }
  if (blocks) {
    bar.done(`${r.fitted} chunks fitted → ${out}`);
    const line = { block: blocks.index, of: blocks.count, fitted: r.fitted, skipped: r.skipped, assembled: r.assembled, complete: r.complete, seconds: (performance.now() - started) / 1000, phases: r.phases };
    if (json) console.log(JSON.stringify(line));
    else console.log(`block ${blocks.index}/${blocks.count} of ${out}: ${r.fitted} chunks fitted (${r.skipped} already done), ${r.assembled} shards assembled; the store is ${r.complete ? "complete" : "not complete yet"}`);
    return;
  }
  await report(r, out, volume, started, bar, json);
}

/**
 * `--plan-only` (openPlannedRun): the run opened with its plan and levels, nothing fitted; prints the plan.
 */
async function planOnlyStore(out: string, volume: VolumeSource, o: StoreWriteOptions, started: number, bar: ProgressBar, json: boolean): Promise<void> {
  const { plan, complete, phases } = await openPlannedRun(out, volume, o);
  const levels = await plannedLevels(plan);
  const sum = (k: "chunks" | "fitted" | "empty") => levels.reduce((n, l) => n + l[k], 0);
  bar.done(`planned ${out}`);
  const line = { chunks: sum("chunks"), fitted: sum("fitted"), empty: sum("empty"), bytes: o.bytes, complete, seconds: (performance.now() - started) / 1000, levels, phases };
  if (json) { console.log(JSON.stringify(line)); return; }
  console.log(`planned ${out}: ${line.chunks} chunks (${line.fitted} to fit, ${line.empty} empty) in ${levels.length} levels, a budget of ${line.bytes} bytes${complete ? "; the store is already complete" : ""}, ${line.seconds.toFixed(1)} s`);
  levels.forEach((l, i) => console.log(`  level ${i} [${l.shape.join(", ")}]: ${l.chunks} chunks (${l.fitted} to fit, ${l.empty} empty), caps ${l.bytes} bytes`));
}

/** The whole store's figures, the decoded level 0 against the input. */
async function report(r: Pick<StoreWriteResult, "bytes" | "levels" | "peak"> & Partial<Pick<StoreWriteResult, "phases">>, out: string, volume: VolumeSource, started: number, bar: ProgressBar, json: boolean): Promise<void> {
  const voxels = volume.shape[0] * volume.shape[1] * volume.shape[2];
  bar.done(`${r.bytes} bytes → ${out}`);
  const m = await storeQuality(volume, out, r.peak);
  const line = {
    bytes: r.bytes, bpp: (8 * r.bytes) / voxels, ratio: (voxels * DTYPES[volume.dtype].bytes) / r.bytes,
    psnr: m ? m.psnr : null, ssim: m ? m.ssim : null, seconds: (performance.now() - started) / 1000, levels: r.levels,
    ...(r.phases ? { phases: r.phases } : {}),
  };
  if (json) console.log(JSON.stringify(line));
  else {
    console.log(`wrote ${out}: ${r.levels.length} levels, ${line.bytes} bytes, ${line.bpp.toFixed(4)} bpp, ratio ${line.ratio.toFixed(1)}×`);
    r.levels.forEach((l, i) => console.log(`  level ${i} [${l.shape.join(", ")}]: ${l.chunks} chunks (${l.fitted} fitted, ${l.background} background, ${l.absent} absent), ${l.bytes} bytes`));
    if (m) console.log(`psnr ${m.psnr.toFixed(2)} dB (peak = data range ${m.peak}), ssim ${m.ssim.toFixed(4)}, ${line.seconds.toFixed(1)} s`);
    else console.log(`${line.seconds.toFixed(1)} s`);
  }
}

/**
 * `--queue redis://…`: plans, opens the run and enqueues its flow; then (unless `detach`) follows
 * it with the progress bar until the store's finish job has run. Resolves with the store's figures
 * once it is complete, undefined when detached.
 */
async function compressOnQueue(url: string, out: string, volume: VolumeSource, o: StoreWriteOptions, q: EnqueueOptions, detach: boolean, bar: ProgressBar, json: boolean): Promise<Pick<StoreWriteResult, "bytes" | "levels" | "peak"> | undefined> {
  const { enqueueStore, watchStore } = await import("../queue/coordinator.js"); // BullMQ loads only for a queue run
  const { connectRedis } = await import("../queue/store-queues.js");
  (await connectRedis(url)).disconnect(); // a Redis that is not there is said now, not after the planning pass
  // --resume continues from the run's manifest, as a local run does (no planning pass)
  const plan = o.resume ? await resumedPlan(out, volume, o) : await planStore(out, volume, o);
  const run = await openStoreRun(out, plan, o.resume ? "resume" : "fresh");
  if (await run.complete()) return { ...(await storeStats(out, plan)), peak: plan.peak };
  await buildScratch(plan); // workers read the levels below the input from it
  const entry = await enqueueStore(url, out, plan, q);
  const total = plan.jobs.count;
  if (detach) {
    if (json) console.log(JSON.stringify({ store: entry.store, queue: entry.ns, jobs: total }));
    else console.log(`queued ${total} block jobs of ${out} on ${url} (queues ${entry.ns}-*): start workers with vmg worker ${url}; follow with vmg status ${url}`);
    return undefined;
  }
  if (!json) process.stderr.write(`compress: ${total} block jobs of ${out} queued on ${url} (queues ${entry.ns}-*); waiting for workers (vmg worker ${url})\n`);
  const status = await watchStore(url, entry, (d, t, v) => bar.updateBlocks(d, t, v));
  if (status.state === "failed") { bar.done(); throw new VolumeWriteError(out, `finishing the store failed: ${status.error}`); }
  if (status.state !== "complete") {
    bar.done();
    throw failedBlocksError(out, status.failed, status.total, "so fix the cause and run the same command again to retry them", status.failedCount);
  }
  return { ...(await storeStats(out, plan)), peak: plan.peak };
}

/** A `redis://host:port/db` argument, or a usage error. */
export function queueUrl(url: string): string {
  try {
    parseRedisUrl(url);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return url;
}

/** Voxels of a slab the report reads at once (input and decoded store): about 64 MB of float64 moments. */
const REPORT_SLAB_VOXELS = 1 << 23;
/** Planes larger than this are not evaluated: one slab (the SSIM window's 11 planes) would not be small. */
const REPORT_MAX_PLANE = 1 << 24;

/**
 * PSNR and SSIM of the store's level 0 against the input, a slab of whole planes at a time; null
 * (said on stderr) when planes are too large for a slab to stay small.
 */
async function storeQuality(volume: VolumeSource, out: string, peak: number): Promise<QualityMetrics | null> {
  const [, ny, nx] = volume.shape;
  if (ny * nx > REPORT_MAX_PLANE) {
    process.stderr.write(`compress: ${out}: quality not measured (planes of ${ny}×${nx} voxels are more than ${REPORT_MAX_PLANE} to hold at once); run vmg eval on a crop\n`);
    return null;
  }
  const planes = (z0: number, z1: number) => ({ z0, z1, y0: 0, y1: ny, x0: 0, x1: nx });
  return evaluateInSlabs(volume.shape, async (z0, z1) => (await volume.read(planes(z0, z1))).data, async (z0, z1) => (await readGaussianStore(out, 0, planes(z0, z1))).data, peak, Math.max(1, Math.floor(REPORT_SLAB_VOXELS / (ny * nx))));
}

/** `--blocks i/N`: this run's share of a store's chunk fits (0 ≤ i < N). */
function blocksFlag(p: Parsed): { index: number; count: number } | undefined {
  const v = stringFlag(p, "blocks");
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count)) throw new UsageError(`--blocks must be i/N with 0 ≤ i < N (a job array's index and size), got "${v}"`);
  return { index, count };
}

export async function storeInfo(path: string, json: boolean): Promise<void> {
  const s = await gaussianStoreInfo(path);
  const v0 = s.levels[0]!.shape;
  const voxels = v0[0] * v0[1] * v0[2];
  const info = {
    store: path, codec: "volmicro.gaussians", codec_version: s.config.version, encoding: s.config.encoding,
    dtype: s.dtype, unit: s.unit ?? "", origin: s.origin ?? [0, 0, 0],
    value_mapping: { offset: s.config.valueOffset, scale: s.config.valueScale }, truncation_sigma: s.config.truncation,
    levels: s.levels.map((l) => ({ path: l.path, shape: l.shape, chunks: l.chunks, shards: l.shards, voxel_size: l.voxelSize ?? [1, 1, 1], bytes: l.bytes, shard_files: l.shardFiles })),
    bytes: s.bytes, bpp: (8 * s.bytes) / voxels, ratio: (voxels * DTYPES[s.dtype as keyof typeof DTYPES].bytes) / s.bytes,
  };
  if (json) { console.log(JSON.stringify(info)); return; }
  console.log(`store       ${path} (OME-Zarr 0.5, codec volmicro.gaussians ${info.codec_version}, encoding ${info.encoding})`);
  console.log(`dtype       ${info.dtype}, value ${info.value_mapping.offset} + ${info.value_mapping.scale} × field`);
  for (const l of info.levels) console.log(`level ${l.path.padEnd(5)} [${l.shape.join(", ")}] chunks [${l.chunks.join(", ")}] shards [${l.shards.join(", ")}], ${l.shard_files} shard files, ${l.bytes} bytes`);
  console.log(`bytes       ${info.bytes}`);
  console.log(`bpp         ${info.bpp.toFixed(4)} (every file, over level 0's voxels)`);
  console.log(`ratio       ${info.ratio.toFixed(1)}×`);
}

export async function storeDecode(path: string, out: string, level: number, box: Box | undefined, zarrFormat: 2 | 3): Promise<void> {
  const v = await readGaussianStore(path, level, box);
  await writeVolume(out, v, { zarrFormat, name: basename(path).replace(/\.zarr\/*$/i, "") });
}

export async function storeEval(path: string, ref: string, p: Parsed, level: number | undefined): Promise<void> {
  const s = await gaussianStoreInfo(path);
  const reference = await openVolume(ref, readOptions(p, level));
  const l = level ?? 0;
  const decoded = await readGaussianStore(path, l);
  if (reference.shape.join() !== decoded.shape.join()) throw new UsageError(`${ref}: shape [${reference.shape.join(", ")}] differs from ${path} level ${l}'s [${decoded.shape.join(", ")}]`);
  const m = evaluate(reference.data, decoded.data, reference.shape);
  const voxels = reference.data.length;
  const result = { psnr: m.psnr, ssim: m.ssim, mse: m.mse, peak: m.peak, bpp: (8 * s.bytes) / voxels, ratio: (voxels * DTYPES[reference.dtype].bytes) / s.bytes, bytes: s.bytes };
  if (p.flags.has("json")) { console.log(JSON.stringify(result)); return; }
  console.log(`psnr  ${result.psnr.toFixed(2)} dB (peak = reference data range ${result.peak})`);
  console.log(`ssim  ${result.ssim.toFixed(4)} (3D, Gaussian window σ 1.5)`);
  console.log(`mse   ${result.mse.toPrecision(6)}`);
  console.log(`bpp   ${result.bpp.toFixed(4)} (the whole store over level ${l}'s voxels)`);
  console.log(`ratio ${result.ratio.toFixed(1)}×`);
}
