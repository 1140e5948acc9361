/**
 * `vmg compress <input> -o <out.vmg> [--bpp B | --gaussians N | --size BYTES] [--seed S]
 *  [--iterations K] [--log curves.jsonl] [--plot curves.svg] [--json]` and the fitter's switches.
 */
import { DTYPES } from "../core/dtype.js";
import { curvesJsonl, curvesSvg } from "../fit/curves.js";
import { DEFAULT_ITERATIONS, fitVolume, type FitOptions } from "../fit/fitter.js";
import type { BackgroundChoice } from "../fit/background-init.js";
import type { Budget } from "../fit/budget.js";
import { bitsPerVoxel } from "../format/vmg.js";
import { evaluate } from "../metrics/evaluate.js";
import { writeFileAtomic } from "../node/atomic-write.js";
import { DecodePool } from "../node/decode-pool.js";
import { WorkerEngine } from "../node/fit-engine.js";
import { openVolume } from "../node/open-volume.js";
import { numberFlag, parseArgs, readOptions, stringFlag, UsageError } from "./args.js";
import { ProgressBar } from "./progress.js";
import { compressToStore, isStoreOutput } from "./store-commands.js";

export const COMPRESS_USAGE = `usage: vmg compress <input> -o <out.vmg> [--bpp B | --gaussians N | --size BYTES] [--seed S]
       [--iterations K] [--log curves.jsonl] [--plot curves.svg] [--json] [--level L] [--threads T]
       [--init pursuit|knn] [--background auto|constant|poly1..4|grid2..16] [--edge-boost W]
       [--sparsity L] [--gate TAU] [--lr R] [--no-densify] [--encoding packed|f16] [--quiet]
       [--strict] [--record-source]
       vmg compress <input> -o <out.ome.zarr> [--bpp B | --size BYTES] [--chunk N] [--shard M] [--halo H]
       [--allocation slope|energy|uniform] [--iterations K] [--seed S] [--threads T] [--encoding packed|f16]
       [--background continuous|constant|poly0..4] [--gate TAU] [--plan-only | --blocks i/N | --resume] [--json]
       [--queue redis://host:port/db [--detach] [--attempts N]]

  <input>          TIFF stack, zarr v2/v3 or OME-Zarr store (directory or http(s) URL)
  --strict         refuse a zarr store with absent chunks (default: they read as the fill value)
  --record-source  store the input path in the file's metadata (default: not stored, so the
                   same data gives the same file wherever it lies)
  -o *.zarr        a chunked store (OME-Zarr 0.5, codec volmicro.gaussians, docs/vmg-zarr-codec.md):
                   chunks of N³ (default 64) in shards of M³ (default 4N), each fitted on its block
                   plus a halo of H voxels (default 0); the budget covers every file of the store
                   but its run manifest (volmicro-manifest.json)
  --plan-only      plan the store and open its run (manifest and levels below the input), fit
                   nothing: run it once before the --blocks i/N tasks so that each reads only its
                   own blocks instead of planning again
  --blocks i/N     fit only run i's share of the chunks (one task of a Slurm array or Kubernetes
                   Indexed Job of N; every task gets the same arguments); a task uses the plan of
                   the run open at -o (checking each block's CRC-32 against it), or plans itself
                   when there is none; the task that stages a shard's last chunk assembles it, and
                   the last shard completes the store
  --resume         continue an interrupted run at -o (skip staged chunks, assemble the rest)
  --queue URL      plan the store, open its run and queue its block jobs on Redis (BullMQ) for
                   vmg worker URL processes; then show progress until the store is complete (exit
                   status 1, naming the failed blocks, when some failed after their retries).
                   Input and -o must be reachable by every worker at the same path or URL (-o a
                   shared filesystem path). Running it again joins or retries the same run
  --detach         with --queue: exit once the jobs are queued (follow with vmg status URL)
  --attempts N     with --queue: tries per block job before it fails (default 3; backoff 1 s, 2 s, …)`;

export const DEFAULT_BPP = 0.073;

export async function compressCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    output: { value: true, alias: "o" }, bpp: { value: true }, gaussians: { value: true }, size: { value: true },
    seed: { value: true }, iterations: { value: true }, log: { value: true }, plot: { value: true }, json: {},
    level: { value: true }, threads: { value: true }, init: { value: true }, background: { value: true },
    "edge-boost": { value: true }, sparsity: { value: true }, gate: { value: true }, lr: { value: true },
    "no-densify": {}, quiet: {}, encoding: { value: true }, strict: {}, "record-source": {},
    chunk: { value: true }, shard: { value: true }, halo: { value: true }, allocation: { value: true },
    blocks: { value: true }, resume: {}, "plan-only": {}, queue: { value: true }, detach: {}, attempts: { value: true },
  });
  const out = stringFlag(p, "output");
  if (p.positionals.length !== 1 || !out) throw new UsageError(COMPRESS_USAGE);
  const input = p.positionals[0]!;
  if (isStoreOutput(out)) return compressToStore(p, input, out, DEFAULT_BPP);
  const storeOnly = ["chunk", "shard", "halo", "allocation", "blocks", "resume", "plan-only", "queue", "detach", "attempts"].filter((k) => p.flags.has(k));
  if (storeOnly.length) throw new UsageError(`--${storeOnly[0]} applies to a store output (-o out.ome.zarr)`);
  const given = ["bpp", "gaussians", "size"].filter((k) => p.flags.has(k));
  if (given.length > 1) throw new UsageError(`give one budget: --bpp, --gaussians or --size (got ${given.map((g) => "--" + g).join(" and ")})`);
  const budget: Budget = p.flags.has("gaussians") ? { gaussians: numberFlag(p, "gaussians", { integer: true, min: 1 })! }
    : p.flags.has("size") ? { bytes: numberFlag(p, "size", { integer: true, min: 1 })! }
    : { bpp: numberFlag(p, "bpp", { min: 1e-9 }) ?? DEFAULT_BPP };
  const init = stringFlag(p, "init");
  if (init !== undefined && init !== "pursuit" && init !== "knn") throw new UsageError(`--init must be pursuit or knn, got "${init}"`);
  const json = p.flags.has("json");
  const quiet = p.flags.has("quiet") || json;
  const threads = numberFlag(p, "threads", { integer: true, min: 1 });
  const iterations = numberFlag(p, "iterations", { integer: true, min: 1 }) ?? DEFAULT_ITERATIONS;
  const level = numberFlag(p, "level", { integer: true, min: 0 });

  const started = performance.now();
  const volume = await openVolume(input, readOptions(p, level));
  if (volume.sourceDType) process.stderr.write(`compress: ${input}: ${volume.sourceDType} voxels converted to ${volume.dtype}\n`);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  const bar = new ProgressBar("compress", quiet);
  const opts: FitOptions = {
    budget, iterations, source: input, recordSource: p.flags.has("record-source"), signal: controller.signal,
    engine: (t) => WorkerEngine.create(t, threads),
    onStage: (stage) => { if (!quiet && stage !== "optimising") process.stderr.write(`compress: ${stage}…\n`); },
    onStep: (s) => bar.update((s.step + 1) / iterations, `PSNR ${s.psnr.toFixed(2)} dB, ${s.gaussians} Gaussians`),
  };
  const seed = numberFlag(p, "seed", { integer: true, min: 0 });
  if (seed !== undefined) opts.seed = seed;
  if (init) opts.init = init;
  const bg = stringFlag(p, "background");
  if (bg) opts.background = bg as BackgroundChoice;
  const eb = numberFlag(p, "edge-boost", { min: 1 });
  if (eb !== undefined) opts.edgeBoost = eb;
  const sp = numberFlag(p, "sparsity", { min: 0 });
  if (sp !== undefined) opts.sparsity = sp;
  const gate = numberFlag(p, "gate", { min: 0, max: 1 });
  if (gate !== undefined) opts.gate = gate;
  const lr = numberFlag(p, "lr", { min: 1e-9 });
  if (lr !== undefined) opts.lr = lr;
  if (p.flags.has("no-densify")) opts.densify = false;
  const encoding = stringFlag(p, "encoding");
  if (encoding !== undefined && encoding !== "packed" && encoding !== "f16") throw new UsageError(`--encoding must be packed or f16, got "${encoding}"`);
  if (encoding) opts.encoding = encoding;
  let result;
  try {
    result = await fitVolume(volume, opts);
  } finally {
    process.off("SIGINT", onSigint);
  }
  await writeFileAtomic(out, result.bytes);
  const seconds = (performance.now() - started) / 1000;
  bar.done(`${result.file.count} Gaussians, ${result.bytes.length} bytes → ${out}`);
  const logPath = stringFlag(p, "log");
  if (logPath) await writeFileAtomic(logPath, new TextEncoder().encode(curvesJsonl(result.log)));
  const plotPath = stringFlag(p, "plot");
  if (plotPath) await writeFileAtomic(plotPath, new TextEncoder().encode(curvesSvg(result.log, `VolMicro training: ${input.split("/").pop()}`)));

  // metrics exactly as `vmg eval` computes them: decode the written bytes on the full grid
  const pool = await DecodePool.create(result.bytes, threads, out);
  let decoded;
  try {
    decoded = await pool.decode();
  } finally {
    await pool.close();
  }
  const m = evaluate(volume.data, decoded, volume.shape);
  const line = {
    gaussians: result.file.count,
    bytes: result.bytes.length,
    bpp: bitsPerVoxel(result.bytes.length, volume.shape),
    ratio: (volume.data.length * DTYPES[volume.dtype].bytes) / result.bytes.length,
    psnr: m.psnr,
    ssim: m.ssim,
    seconds,
  };
  if (json) console.log(JSON.stringify(line));
  else {
    console.log(`wrote ${out}: ${line.gaussians} Gaussians, ${line.bytes} bytes, ${line.bpp.toFixed(4)} bpp, ratio ${line.ratio.toFixed(1)}×`);
    console.log(`psnr ${line.psnr.toFixed(2)} dB (peak = data range ${m.peak}), ssim ${line.ssim.toFixed(4)}, ${seconds.toFixed(1)} s, background ${result.background}`);
  }
}
