/** `vmg eval <file.vmg> --ref <volume> [--level L] [--json]`: quality of a file against its source. */
import { DTYPES } from "../core/dtype.js";
import { bitsPerVoxel } from "../format/vmg.js";
import { DecodePool } from "../node/decode-pool.js";
import { openVolume } from "../node/open-volume.js";
import { loadVmg } from "../node/vmg-file.js";
import { evaluate } from "../metrics/evaluate.js";
import { numberFlag, parseArgs, readOptions, stringFlag, UsageError } from "./args.js";
import { ProgressBar } from "./progress.js";
import { isGaussianStore } from "../node/store-reader.js";
import { storeEval } from "./store-commands.js";

export const EVAL_USAGE = `usage: vmg eval <file.vmg> --ref <volume.tif|store.zarr|URL> [--level L] [--json] [--quiet] [--strict]

  --strict  refuse a zarr reference with absent chunks (default: they read as the fill value)`;

export async function evalCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, { ref: { value: true }, level: { value: true }, json: {}, quiet: {}, strict: {} });
  const ref = stringFlag(p, "ref");
  if (p.positionals.length !== 1 || !ref) throw new UsageError(EVAL_USAGE);
  const source = p.positionals[0]!;
  const level = numberFlag(p, "level", { integer: true, min: 0 });
  const quiet = p.flags.has("quiet") || p.flags.has("json");
  if (await isGaussianStore(source)) return storeEval(source, ref, p, level);
  const { bytes, file } = await loadVmg(source);
  const reference = await openVolume(ref, readOptions(p, level));
  if (reference.sourceDType && !quiet) process.stderr.write(`eval: ${ref}: ${reference.sourceDType} voxels converted to ${reference.dtype}\n`);
  const h = file.header;
  if (reference.shape.join() !== h.shape.join()) {
    throw new UsageError(`${ref}: shape [${reference.shape.join(", ")}] differs from ${source}'s [${h.shape.join(", ")}]`);
  }
  const bar = new ProgressBar("decode", quiet);
  const pool = await DecodePool.create(bytes, undefined, source);
  let decoded;
  try {
    decoded = await pool.decode({ onProgress: (d, t) => bar.update(d / t) });
  } finally {
    await pool.close();
  }
  bar.done();
  const m = evaluate(reference.data, decoded, h.shape);
  const result = {
    psnr: m.psnr, ssim: m.ssim, mse: m.mse, peak: m.peak,
    bpp: bitsPerVoxel(bytes.length, h.shape),
    ratio: (h.shape[0] * h.shape[1] * h.shape[2] * DTYPES[reference.dtype].bytes) / bytes.length,
    bytes: bytes.length, gaussians: file.count,
  };
  if (p.flags.has("json")) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`psnr  ${result.psnr.toFixed(2)} dB (peak = reference data range ${result.peak})`);
  console.log(`ssim  ${result.ssim.toFixed(4)} (3D, Gaussian window σ 1.5)`);
  console.log(`mse   ${result.mse.toPrecision(6)}`);
  console.log(`bpp   ${result.bpp.toFixed(4)}`);
  console.log(`ratio ${result.ratio.toFixed(1)}×`);
}
