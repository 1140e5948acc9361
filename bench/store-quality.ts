/**
 * bench:store's quality half: a volume fitted as a store (`vmg compress … -o x.ome.zarr`) and as
 * one `.vmg` of the same bytes as the store's finest level, both by the compiled CLI (store-fits.ts);
 * PSNR/SSIM of the finest level and of the file, PSNR of the voxels within 2 of an internal chunk
 * face against the rest, and the coarser levels' share of the store's bytes.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Box } from "../src/core/background.js";
import type { VoxelArray } from "../src/core/dtype.js";
import type { Shape3 } from "../src/core/gaussian.js";
import { fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { readVmg } from "../src/format/vmg.js";
import { evaluate } from "../src/metrics/evaluate.js";
import { dataRange, psnrFromMse } from "../src/metrics/psnr.js";
import { writeVolume } from "../src/node/atomic-write.js";
import { openVolume } from "../src/node/open-volume.js";
import { readGaussianStore } from "../src/node/store-reader.js";
import { cropVolume } from "../demo/make-data.js";
import { ROOT } from "../demo/build.js";
import { cachedCompress, type FitRun } from "./store-fits.js";

export const STORE_CHUNK = 64;
export const STORE_SHARD = 256;
/** Voxels on each side of an internal chunk face that count as "at the face". */
export const FACE_MARGIN = 2;

export interface QualityOptions {
  bpp: number;
  /** Fitter steps for both fits (each CLI's default when absent). */
  iterations?: number;
  /** Fit this box of the volume instead of all of it. */
  crop?: Box;
  log: (s: string) => void;
}

interface Metrics { psnr: number; ssim: number; face: number; interior: number }

export interface StoreQuality {
  volume: string;
  shape: Shape3;
  store: FitRun;
  file: FitRun;
  storeBytes: number;
  finestLevelBytes: number;
  fileBytes: number;
  levelBytes: number[];
  coarserShare: number;
  storeMetrics: Metrics;
  /** The file's face and interior PSNR are over the same voxels: a control without chunks. */
  fileMetrics: Metrics;
}

/** Per axis, whether coordinate c lies within FACE_MARGIN of a chunk face between two chunks. */
function nearFace(n: number, chunk: number): boolean[] {
  return Array.from({ length: n }, (_, c) => {
    const r = c % chunk;
    return (r < FACE_MARGIN && c >= chunk) || (r >= chunk - FACE_MARGIN && c - r + chunk < n);
  });
}

/** PSNR (peak = the reference's data range) over the voxels near an internal chunk face, and over the rest. */
export function facePsnr(ref: VoxelArray, got: ArrayLike<number>, shape: Shape3, chunk: number): { face: number; interior: number } {
  const peak = dataRange(ref);
  const [nz, ny, nx] = shape;
  const [fz, fy, fx] = [nearFace(nz, chunk), nearFace(ny, chunk), nearFace(nx, chunk)];
  const se: [number, number] = [0, 0], n: [number, number] = [0, 0];
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const k = fz[z] || fy[y] || fx[x] ? 0 : 1;
    se[k] += (ref[i]! - got[i]!) ** 2;
    n[k]++;
  }
  return { face: psnrFromMse(se[0] / n[0], peak), interior: psnrFromMse(se[1] / n[1], peak) };
}

/** The fit's input: the volume's TIFF, or its crop written once under .cache/bench-store/inputs/. */
async function fitInput(path: string, name: string, crop: Box | undefined): Promise<{ input: string; label: string }> {
  if (!crop) return { input: path, label: name };
  const label = `${name}-crop-${crop.z0}-${crop.z1}-${crop.y0}-${crop.y1}-${crop.x0}-${crop.x1}`;
  const input = join(ROOT, ".cache", "bench-store", "inputs", `${label}.tif`);
  if (!existsSync(input)) {
    mkdirSync(join(ROOT, ".cache", "bench-store", "inputs"), { recursive: true });
    await writeVolume(input, cropVolume(await openVolume(path), crop));
  }
  return { input, label };
}

const iterationArgs = (o: QualityOptions) => (o.iterations !== undefined ? ["--iterations", String(o.iterations)] : []);

/** The store of the volume at `path` bench:store measures (64³ chunks in 256³ shards), fitted once and cached. */
export async function fitStore(path: string, name: string, o: QualityOptions): Promise<FitRun> {
  const { input, label } = await fitInput(path, name, o.crop);
  return cachedCompress(input, `${label}-store`, "store.ome.zarr", ["--bpp", String(o.bpp), "--chunk", String(STORE_CHUNK), "--shard", String(STORE_SHARD), ...iterationArgs(o)], o.log);
}

export async function storeQuality(path: string, name: string, o: QualityOptions): Promise<StoreQuality> {
  const { input, label } = await fitInput(path, name, o.crop);
  const its = iterationArgs(o);
  const store = await fitStore(path, name, o);
  const levels = store.cli["levels"] as Array<{ bytes: number }>;
  const finest = levels[0]!.bytes;
  const file = await cachedCompress(input, `${label}-file`, "file.vmg", ["--size", String(finest), ...its], o.log);
  const ref = await openVolume(input);
  const fromStore = (await readGaussianStore(store.path, 0)).data;
  const vmg = readVmg(new Uint8Array(readFileSync(file.path)), { file: file.path });
  const fromFile = new VmgDecoder(vmg).decode(fullBox(ref.shape));
  const measure = (got: VoxelArray) => {
    const m = evaluate(ref.data, got, ref.shape);
    return { psnr: m.psnr, ssim: m.ssim, ...facePsnr(ref.data, got, ref.shape, STORE_CHUNK) };
  };
  const storeBytes = store.cli["bytes"] as number;
  return {
    volume: name, shape: ref.shape, store, file, storeBytes, finestLevelBytes: finest, fileBytes: statSync(file.path).size,
    levelBytes: levels.map((l) => l.bytes), coarserShare: levels.slice(1).reduce((s, l) => s + l.bytes, 0) / storeBytes,
    storeMetrics: measure(fromStore), fileMetrics: measure(fromFile),
  };
}
