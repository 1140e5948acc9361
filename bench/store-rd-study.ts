/**
 * `node --import tsx bench/store-rd-study.ts [--volume NAME] [--crop N] [--bpp B] [--chunk N]
 *  [--iterations K] [--seed S] [--halo H] [--background continuous|poly1|…] [--allocation A] [--file-iterations K | --no-file] [--chunks] [--png out.png] [--json]`:
 * where a store's bytes and quality go (issue #14's quality targets). Writes the volume as a store,
 * then reports per level its bytes and share of the store, the finest level's PSNR/SSIM, PSNR of the
 * voxels within 2 of an internal chunk face against the rest, and a single-file `.vmg` fitted to
 * the same bytes as the store's finest level (and with `--chunks`, both one's squared error per chunk
 * and the file's Gaussians centred in it, against the store's chunk counts).
 * `--crop N` takes the centre N³ of the volume; a coarse level is scored against the downsampled data.
 * The store's bytes by kind (bench/store-bytes.ts) and the file's container against its Gaussians are printed too.
 * `--seed S` (default 1) seeds the fits: the file's moves with it (its minibatches), a small store's blocks do not (full batches).
 * `--png` writes the middle z slice of original | store | single file side by side. Figures are
 * wall-clock on a shared machine: noisy.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { VoxelArray } from "../src/core/dtype.js";
import { P_POS, PARAMS_PER_GAUSSIAN } from "../src/core/constants.js";
import { toVoxel, type Shape3 } from "../src/core/gaussian.js";
import type { Volume } from "../src/core/volume.js";
import { fitVolume } from "../src/fit/fitter.js";
import { evaluate } from "../src/metrics/evaluate.js";
import { dataRange, psnrFromMse } from "../src/metrics/psnr.js";
import { DecodePool } from "../src/node/decode-pool.js";
import { WorkerEngine } from "../src/node/fit-engine.js";
import { openVolume } from "../src/node/open-volume.js";
import { gaussianStoreInfo, readGaussianStore } from "../src/node/store-reader.js";
import { writeGaussianStore, type StoreWriteOptions } from "../src/node/store-writer.js";
import { DEFAULT_HALO, DEFAULT_STORE_ITERATIONS, downsample2 } from "../src/store/plan.js";
import { cropVolume } from "../demo/make-data.js";
import { grayPng } from "./png.js";
import { describeStoreBytes, fileBytes, storeBytes } from "./store-bytes.js";

const args = process.argv.slice(2);
const flag = (name: string, d: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : d; };
const name = flag("volume", "diadem_OP9_crop_92x77x86_u8");
const bpp = Number(flag("bpp", "0.073"));
const chunk = Number(flag("chunk", "64"));
const crop = Number(flag("crop", "0"));
const json = args.includes("--json");
const png = flag("png", "");

let volume: Volume = await openVolume(fileURLToPath(new URL(`../../shared/data/${name}.tif`, import.meta.url)));
if (crop) {
  const lo = volume.shape.map((n) => Math.max(0, Math.floor((n - crop) / 2)));
  const hi = lo.map((l, a) => Math.min(volume.shape[a]!, l + crop));
  volume = cropVolume(volume, { z0: lo[0]!, z1: hi[0]!, y0: lo[1]!, y1: hi[1]!, x0: lo[2]!, x1: hi[2]! });
}
const log = (s: string) => { if (!json) console.log(s); };

/** PSNR (peak = the reference's data range) of the voxels within `d` of an internal chunk face, and of the rest. */
function facePsnr(ref: VoxelArray, got: ArrayLike<number>, shape: Shape3, d = 2): { face: number; interior: number } {
  const peak = dataRange(ref);
  const se = [0, 0], n = [0, 0];
  const near = (c: number, len: number) => {
    const r = c % chunk;
    return (r < d && c >= chunk) || (r >= chunk - d && c - r + chunk < len);
  };
  const [nz, ny, nx] = shape;
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const k = near(z, nz) || near(y, ny) || near(x, nx) ? 0 : 1;
    se[k]! += (ref[i]! - got[i]!) ** 2; n[k]!++;
  }
  return { face: psnrFromMse(se[0]! / n[0]!, peak), interior: psnrFromMse(se[1]! / n[1]!, peak) };
}

/**
 * Squared error of two reconstructions per level-0 chunk, and how many of the file's Gaussians are
 * centred in it (what one fit of the whole volume spends there): where the store loses against the
 * file, and whether its allocation gives a chunk more or less than the file's fit does.
 */
function chunkErrors(ref: VoxelArray, a: ArrayLike<number>, b: ArrayLike<number>, shape: Shape3, fileGaussians: Float32Array, fileCount: number): Array<{ at: string; store: number; file: number; fileGaussians: number }> {
  const [nz, ny, nx] = shape;
  const out = new Map<string, { at: string; store: number; file: number; fileGaussians: number }>();
  const get = (at: string) => out.get(at) ?? { at, store: 0, file: 0, fileGaussians: 0 };
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const at = [z, y, x].map((c) => Math.floor(c / chunk)).join(",");
    const e = get(at);
    e.store += (ref[i]! - a[i]!) ** 2; e.file += (ref[i]! - b[i]!) ** 2;
    out.set(at, e);
  }
  for (let g = 0; g < fileCount; g++) {
    const p = g * PARAMS_PER_GAUSSIAN + P_POS; // x, y, z
    const c = [2, 1, 0].map((k, a) => Math.min(shape[a]! - 1, Math.max(0, Math.round(toVoxel(fileGaussians[p + k]!, shape[a]!)))));
    const e = get(c.map((v) => Math.floor(v / chunk)).join(","));
    e.fileGaussians++;
    out.set(e.at, e);
  }
  return [...out.values()];
}

const dir = await mkdtemp(join(tmpdir(), "vmg-bench-store-quality-"));
const o: StoreWriteOptions = {
  chunk, shard: chunk * 4, bytes: Math.floor((bpp * volume.data.length) / 8), halo: Number(flag("halo", String(DEFAULT_HALO))),
  iterations: Number(flag("iterations", String(DEFAULT_STORE_ITERATIONS))), seed: Number(flag("seed", "1")), encoding: "packed", background: flag("background", "poly1") as StoreWriteOptions["background"], gate: 0.5, name,
  allocation: flag("allocation", "slope") as "slope",
};
try {
  const path = join(dir, "store.ome.zarr");
  let t = performance.now();
  const w = await writeGaussianStore(path, volume, o);
  const storeSeconds = (performance.now() - t) / 1000;
  const info = await gaussianStoreInfo(path);
  const back = await readGaussianStore(path, 0);
  const m = evaluate(volume.data, back.data, volume.shape);
  const f = facePsnr(volume.data, back.data, volume.shape);
  const finest = info.levels[0]!.bytes;
  log(`${name} ${volume.shape.join("x")}, ${bpp} bpp (${o.bytes} bytes), chunks ${chunk}³, halo ${o.halo}, ${o.iterations} iterations, allocation ${o.allocation}`);
  log(`store: ${w.bytes} bytes in ${storeSeconds.toFixed(1)} s; PSNR ${m.psnr.toFixed(2)} dB, SSIM ${m.ssim.toFixed(4)}; faces ${f.face.toFixed(2)}, interior ${f.interior.toFixed(2)} (${(f.face - f.interior).toFixed(2)} dB)`);
  let reference = volume;
  for (const [i, l] of info.levels.entries()) {
    const s = w.levels[i]!;
    if (i > 0) reference = downsample2(reference);
    // a coarse level against the 2× mean of the level above, which it was fitted to
    const q = i > 0 ? `, PSNR ${evaluate(reference.data, (await readGaussianStore(path, i)).data, reference.shape).psnr.toFixed(2)} dB against the downsampled data` : "";
    log(`  level ${l.path} ${l.shape.join("x")}: ${l.bytes} bytes (${((100 * l.bytes) / w.bytes).toFixed(1)} %), ${s.fitted} fitted, ${s.background} background, ${s.absent} absent${q}`);
  }
  for (const line of describeStoreBytes(storeBytes(path))) log(line);
  const row: Record<string, number> = {
    store_psnr: m.psnr, store_ssim: m.ssim, store_bytes: w.bytes, finest_level_bytes: finest,
    coarse_share: info.levels.slice(1).reduce((n, l) => n + l.bytes, 0) / w.bytes,
    face_psnr: f.face, interior_psnr: f.interior, fit_seconds: storeSeconds,
  };
  let file: ArrayLike<number> | undefined;
  if (!args.includes("--no-file")) {
    t = performance.now();
    const r = await fitVolume(volume, { budget: { bytes: finest }, engine: (n) => WorkerEngine.create(n), encoding: "packed", iterations: Number(flag("file-iterations", "600")), seed: o.seed });
    const fileSeconds = (performance.now() - t) / 1000;
    const pool = await DecodePool.create(r.bytes);
    file = await pool.decode();
    await pool.close();
    const fm = evaluate(volume.data, file, volume.shape);
    const ff = facePsnr(volume.data, file, volume.shape);
    Object.assign(row, { file_psnr: fm.psnr, file_ssim: fm.ssim, file_bytes: r.bytes.length, file_seconds: fileSeconds });
    log(`file at the finest level's ${finest} bytes: ${r.bytes.length} bytes, ${r.file.count} Gaussians in ${fileSeconds.toFixed(1)} s; PSNR ${fm.psnr.toFixed(2)} dB, SSIM ${fm.ssim.toFixed(4)} (same faces ${ff.face.toFixed(2)}, interior ${ff.interior.toFixed(2)})`);
    const fb = fileBytes(r.bytes);
    log(`  file: container ${fb.container} bytes (header, background, packed table, META, CRC) + Gaussians ${fb.gaussians} (${fb.count}, ${(fb.gaussians / fb.count).toFixed(2)} B each)`);
    log(`store − file: ${(m.psnr - fm.psnr).toFixed(2)} dB, SSIM ${(m.ssim - fm.ssim).toFixed(4)}`);
    if (args.includes("--chunks")) {
      for (const c of chunkErrors(volume.data, back.data, file, volume.shape, r.file.gaussians, r.file.count)) {
        log(`  chunk ${c.at}: store SE ${c.store.toExponential(3)}, file SE ${c.file.toExponential(3)}, file Gaussians centred here ${c.fileGaussians}`);
      }
    }
  }
  if (png) {
    const [nz, ny, nx] = volume.shape, z = Math.floor(nz / 2), plane = ny * nx;
    const slices = [volume.data, back.data, ...(file ? [file] : [])].map((v) => Array.from({ length: plane }, (_, i) => v[z * plane + i]!));
    // window: the slice's 0.5th to 99.5th percentile, so dim structure and seams show
    const sorted = [...slices[0]!].sort((a, b) => a - b), lo = sorted[Math.floor(0.005 * plane)]!, hi = sorted[Math.floor(0.995 * plane)]!;
    await writeFile(png, grayPng(slices, ny, nx, lo, hi, Math.max(1, Math.floor(384 / Math.max(ny, nx)))));
    log(`wrote ${png}: z = ${z}, original | store${file ? " | single file" : ""}`);
  }
  if (json) console.log(JSON.stringify(row));
} finally {
  await rm(dir, { recursive: true, force: true });
}
