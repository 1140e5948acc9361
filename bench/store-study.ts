/**
 * `node --import tsx bench/store-study.ts [--volume NAME] [--bpp B] [--chunk N] [--iterations K]`: the
 * chunked store's choices, measured on one volume at one budget: PSNR on the voxels next to an
 * internal chunk face against the interior, with and without a halo and for the two rules of which
 * Gaussians a chunk keeps; and energy-proportional against uniform allocation of the bytes.
 * `--runs 2,4` picks runs by index. Timing figures are wall-clock and noisy on a shared machine.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { VoxelArray } from "../src/core/dtype.js";
import type { Shape3 } from "../src/core/gaussian.js";
import { openVolume } from "../src/node/open-volume.js";
import { readGaussianStore } from "../src/node/store-reader.js";
import { writeGaussianStore, type StoreWriteOptions } from "../src/node/store-writer.js";

const args = process.argv.slice(2);
const flag = (name: string, d: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : d; };
const name = flag("volume", "diadem_OP9_crop_92x77x86_u8");
const bpp = Number(flag("bpp", "0.5"));
const chunk = Number(flag("chunk", "32"));
const iterations = Number(flag("iterations", "100"));
const volume = await openVolume(fileURLToPath(new URL(`../../shared/data/${name}.tif`, import.meta.url)));

/** PSNR (peak = data range) over voxels next to an internal chunk face, and over the rest. */
function facePsnr(ref: VoxelArray, got: VoxelArray, shape: Shape3): { face: number; interior: number } {
  let lo = Infinity, hi = -Infinity;
  for (const v of ref) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const sums = { face: { se: 0, n: 0 }, interior: { se: 0, n: 0 } };
  const [nz, ny, nx] = shape;
  const atFace = (c: number, n: number) => (c % chunk === 0 && c > 0) || (c % chunk === chunk - 1 && c < n - 1);
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const s = atFace(z, nz) || atFace(y, ny) || atFace(x, nx) ? sums.face : sums.interior;
    s.se += (ref[i]! - got[i]!) ** 2; s.n++;
  }
  const p = (s: { se: number; n: number }) => 10 * Math.log10((hi - lo) ** 2 / (s.se / s.n));
  return { face: p(sums.face), interior: p(sums.interior) };
}

const dir = await mkdtemp(join(tmpdir(), "vmg-bench-store-"));
const base: StoreWriteOptions = {
  chunk, shard: chunk * 4, bytes: Math.floor((bpp * volume.data.length) / 8), halo: 2, iterations, seed: 1,
  encoding: "packed", background: "poly1", gate: 0.5, name,
};
const only = flag("runs", "");
const all: Array<[string, Partial<StoreWriteOptions>]> = [
  ["halo 0, keep centre", { halo: 0, keep: "centre" }],
  ["halo 4, keep centre", { halo: 4, keep: "centre" }],
  ["halo 0, keep overlap", { halo: 0 }],
  ["halo 2, keep overlap (default)", { halo: 2 }],
  ["halo 4, keep overlap", { halo: 4 }],
  ["halo 2, keep overlap, uniform allocation", { halo: 2, allocation: "uniform" }],
];
const runs = only ? only.split(",").map((k) => all[Number(k)]!) : all;
console.log(`${name} ${volume.shape.join("x")}, ${bpp} bpp (${base.bytes} bytes), chunks ${chunk}³, ${iterations} iterations`);
console.log("| run | bytes | PSNR all | PSNR at faces | PSNR interior | seconds |\n| --- | --- | --- | --- | --- | --- |");
try {
  for (const [label, o] of runs) {
    const t = performance.now();
    const path = join(dir, `${runs.findIndex((r) => r[0] === label)}.ome.zarr`);
    const r = await writeGaussianStore(path, volume, { ...base, ...o });
    const s = (performance.now() - t) / 1000;
    const back = await readGaussianStore(path, 0);
    const all = facePsnr(volume.data, back.data, volume.shape);
    let lo = Infinity, hi = -Infinity, se = 0;
    for (let i = 0; i < volume.data.length; i++) { lo = Math.min(lo, volume.data[i]!); hi = Math.max(hi, volume.data[i]!); se += (volume.data[i]! - back.data[i]!) ** 2; }
    const psnr = 10 * Math.log10((hi - lo) ** 2 / (se / volume.data.length));
    console.log(`| ${label} | ${r.bytes} | ${psnr.toFixed(2)} | ${all.face.toFixed(2)} | ${all.interior.toFixed(2)} | ${s.toFixed(1)} |`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
