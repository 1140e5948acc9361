/**
 * The volumes the decode benchmarks run on: every volume of ../shared/data's manifest, and the
 * demo's light-sheet block (the crop `npm run demo` fits), each with its fit settings.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Box } from "../src/core/background.js";
import { Random } from "../src/core/random.js";
import type { Volume } from "../src/core/volume.js";
import { openVolume } from "../src/node/open-volume.js";
import { readDemoVolume } from "../demo/make-data.js";
import { DEMO_VOLUMES } from "../demo/volumes.js";
import type { FitSettings } from "./stream-cache.js";

export const DATA_DIR = fileURLToPath(new URL("../../shared/data/", import.meta.url));
export const BENCH_BPP = 0.073;

export interface BenchVolume {
  name: string;
  settings: FitSettings;
  load: () => Promise<Volume>;
}

/** The manifest's volumes, smallest first, fitted with `iterations` steps (default: the fitter's); empty when ../shared/data is absent. */
export function manifestVolumes(iterations?: number): BenchVolume[] {
  const manifest = `${DATA_DIR}manifest.json`;
  if (!existsSync(manifest)) return [];
  const entries = JSON.parse(readFileSync(manifest, "utf8")) as { name: string; file: string; shape_zyx: number[] }[];
  const voxels = (e: { shape_zyx: number[] }) => e.shape_zyx.reduce((a, b) => a * b, 1);
  return [...entries].sort((a, b) => voxels(a) - voxels(b)).map((e) => ({
    name: e.name,
    settings: { bpp: BENCH_BPP, encoding: "packed", ...(iterations !== undefined ? { iterations } : {}) },
    load: () => openVolume(`${DATA_DIR}${e.file}`),
  }));
}

/** The demo's default block, fitted as the demo fits it. */
export function demoBlock(): BenchVolume {
  const d = DEMO_VOLUMES.trailmap!;
  return {
    name: d.name,
    settings: { bpp: d.bpp, encoding: "packed", iterations: d.iterations },
    load: () => readDemoVolume(`${DATA_DIR}${d.file}`, d.crop),
  };
}

/** Every 64³-aligned chunk of a shape (clipped at the far edges), or a fixed sample of `max` of them. */
export function alignedChunks(shape: readonly number[], max = Infinity): Box[] {
  const [nz, ny, nx] = shape as [number, number, number];
  const boxes: Box[] = [];
  for (let z0 = 0; z0 < nz; z0 += 64) for (let y0 = 0; y0 < ny; y0 += 64) for (let x0 = 0; x0 < nx; x0 += 64) {
    boxes.push({ z0, z1: Math.min(nz, z0 + 64), y0, y1: Math.min(ny, y0 + 64), x0, x1: Math.min(nx, x0 + 64) });
  }
  if (boxes.length <= max) return boxes;
  const rng = new Random(64);
  for (let i = boxes.length - 1; i > 0; i--) { const j = rng.int(i + 1); [boxes[i], boxes[j]] = [boxes[j]!, boxes[i]!]; }
  return boxes.slice(0, max);
}
