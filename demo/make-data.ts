/**
 * The demo's data, made by the project's own tools and cached under demo/data/ (gitignored):
 * the original volume as OME-Zarr (our zarr writer, shown through Neuroglancer's own zarr://
 * datasource), the same volume compressed to `.vmg` by our fitter, and (makeDemoStore) as a
 * chunked Gaussian store by `vmg compress … -o <name>.ome.zarr`. Rebuilt only when the source,
 * the bit budget or the tools' version stamp change.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Box } from "../src/core/background.js";
import { allocVoxels } from "../src/core/dtype.js";
import { fitVolume } from "../src/fit/fitter.js";
import { writeZarrV3 } from "../src/io/zarr.js";
import { WorkerEngine } from "../src/node/fit-engine.js";
import { FileSystemStore } from "../src/node/fs-store.js";
import { openVolume } from "../src/node/open-volume.js";
import { readVmg } from "../src/format/vmg.js";
import type { Volume } from "../src/core/volume.js";
import { ensureCliBuild } from "../scripts/build-cli.js";
import { ROOT } from "./build.js";

export interface DemoData {
  name: string;
  /** Folder holding `<name>.vmg` and `<name>.zarr/`. */
  dir: string;
  vmg: string;
  zarr: string;
  /** Shape [z, y, x] and voxel size [z, y, x] + unit, from the `.vmg` header. */
  shape: [number, number, number];
  voxelSize: [number, number, number];
  unit: string;
  vmgBytes: number;
  fitSeconds: number | undefined;
  /** The z plane with the most bright voxels: where the demo's cross-sections start. */
  bestZ: number;
}

export interface MakeDataOptions {
  /** Bits per voxel of the `.vmg`. */
  bpp: number;
  iterations?: number;
  /** Cut this z/y/x block out of the source first. */
  crop?: Box;
  /** Output name (default: the source's file name without extension). */
  name?: string;
  /** Zarr chunk shape [z, y, x]. */
  chunks?: [number, number, number];
  log?: (line: string) => void;
}

const STAMP_VERSION = 3; // 3: the fitter's packed encoding
export const DEFAULT_CHUNKS: [number, number, number] = [32, 64, 64];

/** Make (or reuse) demo/data/<name>.zarr and <name>.vmg from a TIFF or zarr volume. */
export async function makeDemoData(source: string, outDir: string, o: MakeDataOptions): Promise<DemoData> {
  const log = o.log ?? (() => {});
  const name = o.name ?? basename(source).replace(/\.(tiff?|zarr)$/i, "");
  const chunks = o.chunks ?? DEFAULT_CHUNKS;
  const vmg = join(outDir, `${name}.vmg`), zarr = join(outDir, `${name}.zarr`), stampFile = join(outDir, `${name}.json`);
  const stamp = { version: STAMP_VERSION, source: basename(source), crop: o.crop ?? null, chunks, bpp: o.bpp, iterations: o.iterations ?? null };
  const cached = existsSync(stampFile) ? (JSON.parse(readFileSync(stampFile, "utf8")) as typeof stamp & { fitSeconds?: number; bestZ?: number }) : undefined;
  let fitSeconds = cached?.fitSeconds;
  let bestZ = cached?.bestZ ?? 0;
  const fresh = cached && JSON.stringify({ ...cached, fitSeconds: undefined, bestZ: undefined }) === JSON.stringify(stamp);
  if (!fresh || !existsSync(vmg) || !existsSync(join(zarr, "zarr.json"))) {
    mkdirSync(outDir, { recursive: true });
    log(`reading ${basename(source)}`);
    const volume = await readDemoVolume(source, o.crop);
    log(`writing ${name}.zarr (OME-Zarr v3, gzip, ${chunks.join("x")} chunks) ${volume.shape.join("x")} ${volume.dtype}`);
    rmSync(zarr, { recursive: true, force: true });
    await writeZarrV3(new FileSystemStore(zarr), volume, { name, chunks });
    log(`fitting ${name}.vmg at ${o.bpp} bits/voxel (first run only; cached afterwards)`);
    const t0 = performance.now();
    let last = 0;
    const fit = await fitVolume(volume, {
      budget: { bpp: o.bpp },
      source: basename(source),
      ...(o.iterations !== undefined ? { iterations: o.iterations } : {}),
      engine: (t) => WorkerEngine.create(t),
      onStep: (s) => {
        if (performance.now() - last > 5000) { last = performance.now(); log(`  step ${s.step}: PSNR ${s.psnr.toFixed(2)} dB, ${s.gaussians} Gaussians`); }
      },
    });
    fitSeconds = (performance.now() - t0) / 1000;
    writeFileSync(vmg, fit.bytes);
    bestZ = brightestPlane(volume);
    writeFileSync(stampFile, JSON.stringify({ ...stamp, fitSeconds, bestZ }));
    log(`wrote ${name}.vmg: ${fit.bytes.length} bytes, ${fit.budgetGaussians} Gaussians max, ${fitSeconds.toFixed(1)} s`);
  }
  const bytes = new Uint8Array(readFileSync(vmg));
  const h = readVmg(bytes, { file: vmg }).header;
  return {
    name, dir: outDir, vmg, zarr,
    shape: [...h.shape], voxelSize: [...h.voxelSize], unit: h.unit,
    vmgBytes: bytes.length, fitSeconds, bestZ,
  };
}

export interface DemoStore {
  /** `<name>.ome.zarr` beside the other demo data. */
  path: string;
  bytes: number;
  psnr: number;
  /** Seconds of the `vmg compress` run that wrote it (the first start only). */
  seconds: number;
}

export interface MakeStoreOptions {
  bpp: number;
  /** Inner chunk edge (`--chunk`). */
  chunk: number;
  iterations?: number;
  log?: (line: string) => void;
}

const STORE_STAMP_VERSION = 1;

/**
 * Make (or reuse) demo/data/<name>.ome.zarr from the demo's zarr with the real command,
 * `vmg compress <name>.zarr -o <name>.ome.zarr --chunk N --bpp B` (the CLI bundle, built if
 * stale), cached like the `.vmg`: redone only when the zarr's stamp or these options change.
 */
export async function makeDemoStore(data: DemoData, o: MakeStoreOptions): Promise<DemoStore> {
  const log = o.log ?? (() => {});
  const path = join(data.dir, `${data.name}.ome.zarr`), stampFile = join(data.dir, `${data.name}.ome.json`);
  const zarrStamp = readFileSync(join(data.dir, `${data.name}.json`), "utf8");
  const stamp = { version: STORE_STAMP_VERSION, zarr: JSON.parse(zarrStamp) as unknown, bpp: o.bpp, chunk: o.chunk, iterations: o.iterations ?? null };
  const cached = existsSync(stampFile) ? (JSON.parse(readFileSync(stampFile, "utf8")) as typeof stamp & { result?: DemoStore }) : undefined;
  if (cached?.result && existsSync(join(path, "zarr.json")) && JSON.stringify({ ...cached, result: undefined }) === JSON.stringify(stamp)) return cached.result;
  await ensureCliBuild();
  const args = ["compress", data.zarr, "-o", path, "--chunk", String(o.chunk), "--bpp", String(o.bpp), "--json",
    ...(o.iterations !== undefined ? ["--iterations", String(o.iterations)] : [])];
  log(`vmg ${args.join(" ").replaceAll(`${data.dir}/`, "")} (first run only; cached afterwards)`);
  rmSync(path, { recursive: true, force: true });
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, "bin/vmg.mjs"), ...args], { maxBuffer: 1 << 24 }, (err, out, stderr) => (err ? reject(new Error(`vmg compress failed: ${stderr.trim() || err.message}`)) : resolve(out)));
  });
  const line = JSON.parse(stdout.trim().split("\n").pop()!) as { bytes: number; psnr: number; seconds: number };
  const result: DemoStore = { path, bytes: line.bytes, psnr: line.psnr, seconds: line.seconds };
  writeFileSync(stampFile, JSON.stringify({ ...stamp, result }));
  log(`wrote ${data.name}.ome.zarr: ${line.bytes} bytes, PSNR ${line.psnr.toFixed(2)} dB, ${line.seconds.toFixed(1)} s`);
  return result;
}

/** The demo volume as the demo shows it (cropped), read from its file. */
export async function readDemoVolume(source: string, crop?: Box): Promise<Volume> {
  const whole = await openVolume(source);
  return crop ? cropVolume(whole, crop) : whole;
}

export function cropVolume(v: Volume, b: Box): Volume {
  const [nz, ny, nx] = v.shape;
  const ok = 0 <= b.z0 && b.z0 < b.z1 && b.z1 <= nz && 0 <= b.y0 && b.y0 < b.y1 && b.y1 <= ny && 0 <= b.x0 && b.x0 < b.x1 && b.x1 <= nx;
  if (!ok) throw new Error(`crop ${JSON.stringify(b)} is outside the volume ${v.shape.join("x")}`);
  const shape: [number, number, number] = [b.z1 - b.z0, b.y1 - b.y0, b.x1 - b.x0];
  const data = allocVoxels(v.dtype, shape[0] * shape[1] * shape[2]);
  const w = shape[2];
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) {
    const s = ((b.z0 + z) * ny + b.y0 + y) * nx + b.x0;
    data.set(v.data.subarray(s, s + w) as never, (z * shape[1] + y) * w);
  }
  return { ...v, shape, data };
}

function brightestPlane(v: Volume): number {
  const [nz, ny, nx] = v.shape;
  let max = 0;
  for (let i = 0; i < v.data.length; i++) max = Math.max(max, v.data[i]!);
  let best = 0, bestCount = -1;
  for (let z = 0; z < nz; z++) {
    let count = 0;
    for (let i = z * ny * nx, e = i + ny * nx; i < e; i++) if (v.data[i]! > max / 4) count++;
    if (count > bestCount) { best = z; bestCount = count; }
  }
  return best;
}
