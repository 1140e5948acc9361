/**
 * One fit for `bench:fit`, in its own process so its peak memory is its own:
 *   node --import tsx bench/fit-one.ts <volume.tif> <out.vmg> <bpp> <packed|f16> [iterations] [plot.svg]
 * Prints one JSON line. Metrics are `vmg eval`'s: the written file decoded on the full grid.
 */
import { DTYPES } from "../src/core/dtype.js";
import { fitVolume } from "../src/fit/fitter.js";
import { curvesSvg } from "../src/fit/curves.js";
import { bitsPerVoxel } from "../src/format/vmg.js";
import { evaluate } from "../src/metrics/evaluate.js";
import { writeFileAtomic } from "../src/node/atomic-write.js";
import { DecodePool } from "../src/node/decode-pool.js";
import { WorkerEngine } from "../src/node/fit-engine.js";
import { openVolume } from "../src/node/open-volume.js";

const [input, out, bppText, encoding, itText, plot] = process.argv.slice(2);
if (!input || !out || !bppText || (encoding !== "packed" && encoding !== "f16")) throw new Error("usage: fit-one.ts <volume> <out.vmg> <bpp> <packed|f16> [iterations] [plot.svg]");
const volume = await openVolume(input);
const t0 = performance.now();
const r = await fitVolume(volume, {
  budget: { bpp: Number(bppText) }, source: input, engine: (t) => WorkerEngine.create(t), encoding,
  ...(itText ? { iterations: Number(itText) } : {}),
});
const seconds = (performance.now() - t0) / 1000;
await writeFileAtomic(out, r.bytes);
if (plot) await writeFileAtomic(plot, new TextEncoder().encode(curvesSvg(r.log, `VolMicro training: ${input.split("/").pop()}`)));
const pool = await DecodePool.create(r.bytes);
const decoded = await pool.decode();
await pool.close();
const m = evaluate(volume.data, decoded, volume.shape);
console.log(JSON.stringify({
  encoding, gaussians: r.file.count, bytes: r.bytes.length, bpp: bitsPerVoxel(r.bytes.length, volume.shape),
  ratio: (volume.data.length * DTYPES[volume.dtype].bytes) / r.bytes.length,
  psnr: m.psnr, ssim: m.ssim, seconds, background: r.background,
  peak_mb: Math.round(process.resourceUsage().maxRSS / 1024),
}));
