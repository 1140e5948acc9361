/**
 * The `vmg` commands on a chunked Gaussian store (an OME-Zarr directory whose chunks use the
 * `volmicro.gaussians` codec): `compress … -o out.ome.zarr`, and `info`, `decode`, `eval` on one.
 */
import { DTYPES } from "../core/dtype.js";
import type { Box } from "../core/background.js";
import type { BackgroundChoice } from "../fit/background-init.js";
import { evaluate } from "../metrics/evaluate.js";
import { writeVolume } from "../node/atomic-write.js";
import { openVolume } from "../node/open-volume.js";
import { gaussianStoreInfo, readGaussianStore } from "../node/store-reader.js";
import { writeGaussianStore } from "../node/store-writer.js";
import { numberFlag, readOptions, stringFlag, UsageError, type Parsed } from "./args.js";
import { ProgressBar } from "./progress.js";
import { basename } from "node:path";

/** An output path that names a store rather than a `.vmg` file. */
export function isStoreOutput(out: string): boolean {
  return /\.zarr\/*$/i.test(out);
}

export async function compressToStore(p: Parsed, input: string, out: string, bppDefault: number): Promise<void> {
  const fileOnly = ["gaussians", "log", "plot", "init", "edge-boost", "sparsity", "lr", "no-densify", "record-source"].filter((k) => p.flags.has(k));
  if (fileOnly.length) throw new UsageError(`--${fileOnly[0]} applies to a .vmg output, not a store (a store takes --bpp or --size, --chunk, --shard, --halo, --allocation, --blocks, --resume)`);
  if (p.flags.has("bpp") && p.flags.has("size")) throw new UsageError("give one budget: --bpp or --size (got --bpp and --size)");
  const started = performance.now();
  const json = p.flags.has("json");
  const quiet = json || p.flags.has("quiet");
  const volume = await openVolume(input, readOptions(p, numberFlag(p, "level", { integer: true, min: 0 })));
  const voxels = volume.data.length;
  const bytes = p.flags.has("size") ? numberFlag(p, "size", { integer: true, min: 1 })! : Math.floor(((numberFlag(p, "bpp", { min: 1e-9 }) ?? bppDefault) * voxels) / 8);
  const chunk = numberFlag(p, "chunk", { integer: true, min: 4, max: 1024 }) ?? 64;
  const shard = numberFlag(p, "shard", { integer: true, min: chunk }) ?? chunk * 4;
  if (shard % chunk !== 0) throw new UsageError(`--shard ${shard} must be a multiple of --chunk ${chunk}`);
  const allocation = stringFlag(p, "allocation") ?? "slope";
  if (allocation !== "slope" && allocation !== "energy" && allocation !== "uniform") throw new UsageError(`--allocation must be slope, energy or uniform, got "${allocation}"`);
  const encoding = stringFlag(p, "encoding") ?? "packed";
  if (encoding !== "packed" && encoding !== "f16") throw new UsageError(`--encoding must be packed or f16, got "${encoding}"`);
  const background = (stringFlag(p, "background") ?? "poly1") as BackgroundChoice;
  if (!/^(constant|poly[0-4])$/.test(background)) throw new UsageError(`a store's chunks take --background constant or poly0..4 (a grid cannot move into a chunk's frame), got "${background}"`);
  const bar = new ProgressBar("compress", quiet);
  const threads = numberFlag(p, "threads", { integer: true, min: 1 });
  const blocks = blocksFlag(p);
  const resume = p.flags.has("resume");
  if (resume && blocks) throw new UsageError("give --blocks i/N or --resume, not both (a --blocks run already skips what is done)");
  const r = await writeGaussianStore(out, volume, {
    chunk, shard, bytes, halo: numberFlag(p, "halo", { integer: true, min: 0 }) ?? 2,
    iterations: numberFlag(p, "iterations", { integer: true, min: 1 }) ?? 200, seed: numberFlag(p, "seed", { integer: true, min: 0 }) ?? 1,
    encoding, background, gate: numberFlag(p, "gate", { min: 0, max: 1 }) ?? 0.5, allocation,
    name: basename(input).replace(/\.(tiff?|zarr)$/i, ""), onProgress: (d, t) => bar.update(d / t, `${d}/${t} chunks`),
    ...(threads ? { threads } : {}), ...(blocks ? { blocks } : {}), resume,
  });
  if (blocks) {
    bar.done(`${r.fitted} chunks fitted → ${out}`);
    const line = { block: blocks.index, of: blocks.count, fitted: r.fitted, skipped: r.skipped, assembled: r.assembled, complete: r.complete, seconds: (performance.now() - started) / 1000 };
    if (json) console.log(JSON.stringify(line));
    else console.log(`block ${blocks.index}/${blocks.count} of ${out}: ${r.fitted} chunks fitted (${r.skipped} already done), ${r.assembled} shards assembled; the store is ${r.complete ? "complete" : "not complete yet"}`);
    return;
  }
  bar.done(`${r.bytes} bytes → ${out}`);
  const decoded = await readGaussianStore(out, 0);
  const m = evaluate(volume.data, decoded.data, volume.shape);
  const line = {
    bytes: r.bytes, bpp: (8 * r.bytes) / voxels, ratio: (voxels * DTYPES[volume.dtype].bytes) / r.bytes,
    psnr: m.psnr, ssim: m.ssim, seconds: (performance.now() - started) / 1000, levels: r.levels,
  };
  if (json) console.log(JSON.stringify(line));
  else {
    console.log(`wrote ${out}: ${r.levels.length} levels, ${line.bytes} bytes, ${line.bpp.toFixed(4)} bpp, ratio ${line.ratio.toFixed(1)}×`);
    r.levels.forEach((l, i) => console.log(`  level ${i} [${l.shape.join(", ")}]: ${l.chunks} chunks (${l.fitted} fitted, ${l.background} background, ${l.absent} absent), ${l.bytes} bytes`));
    console.log(`psnr ${line.psnr.toFixed(2)} dB (peak = data range ${m.peak}), ssim ${line.ssim.toFixed(4)}, ${line.seconds.toFixed(1)} s`);
  }
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
