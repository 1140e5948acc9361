/**
 * Streams for the decode benchmarks, made once and cached under `.cache/` (gitignored): the fits,
 * keyed by the volume's content hash, the fit settings and the fitter's version — a hash of the
 * sources that decide a fit's result (src/fit, src/core, src/format) — and the HEVC streams of
 * the same volumes at a fit's byte size, keyed by the volume and that size.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Volume } from "../src/core/volume.js";
import { fitVolume } from "../src/fit/fitter.js";
import { writeFileAtomic } from "../src/node/atomic-write.js";
import { WorkerEngine } from "../src/node/fit-engine.js";
import { videoCodec } from "./codecs/video.js";

export interface FitSettings {
  bpp: number;
  encoding: "packed" | "f16";
  /** Optimiser steps (the fitter's default when absent). */
  iterations?: number;
  seed?: number;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FITTER_SOURCES = ["src/fit", "src/core", "src/format"];

/** The hash of the fitter's sources, in a fixed file order. */
export function fitterVersion(): string {
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts")) h.update(relative(ROOT, p)).update(readFileSync(p));
    }
  };
  for (const d of FITTER_SOURCES) walk(join(ROOT, d));
  return h.digest("hex").slice(0, 16);
}

const sha = (...parts: (string | Uint8Array)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex").slice(0, 16);
};

function volumeHash(v: Volume): string {
  const d = v.data;
  return sha(JSON.stringify([v.shape, v.dtype]), new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
}

export interface Cached {
  bytes: Uint8Array;
  /** The cache file. */
  path: string;
  /** Seconds it took to make (in this run or an earlier one). */
  seconds: number;
  fresh: boolean;
}

/** `.cache/<dir>/<file>`, or made by `make` and written there (stream first, then its note). */
async function cachedBytes(dir: string, file: string, make: () => Promise<Uint8Array>, log: (s: string) => void): Promise<Cached> {
  const path = join(ROOT, ".cache", dir, file);
  const note = `${path}.json`;
  if (existsSync(path) && existsSync(note)) {
    const { seconds } = JSON.parse(readFileSync(note, "utf8")) as { seconds: number };
    return { bytes: new Uint8Array(readFileSync(path)), path, seconds, fresh: false };
  }
  mkdirSync(join(ROOT, ".cache", dir), { recursive: true });
  log(`making ${relative(ROOT, path)} (first run only)`);
  const t0 = performance.now();
  const bytes = await make();
  const seconds = (performance.now() - t0) / 1000;
  await writeFileAtomic(path, bytes);
  await writeFileAtomic(note, new TextEncoder().encode(JSON.stringify({ file, seconds, bytes: bytes.length })));
  return { bytes, path, seconds, fresh: true };
}

/**
 * The `.vmg` of `volume` fitted with `settings`. With `anyFitterVersion`, the newest cached fit of
 * the same name, budget and encoding whatever fitter made it (decode speed does not depend on the
 * fitter's version, and refitting costs minutes), fitting only when there is none.
 */
export function cachedFit(
  volume: Volume, name: string, settings: FitSettings, log: (s: string) => void = () => {}, anyFitterVersion = false,
): Promise<Cached> {
  const prefix = `${name}-${settings.bpp}-${settings.encoding}-`;
  const key = sha(JSON.stringify({ volume: volumeHash(volume), fitter: fitterVersion(), settings }));
  const file = (anyFitterVersion && newestCached("fits", prefix, ".vmg")) || `${prefix}${key}.vmg`;
  return cachedBytes("fits", file, async () => (await fitVolume(volume, {
    budget: { bpp: settings.bpp }, encoding: settings.encoding, source: name,
    ...(settings.iterations !== undefined ? { iterations: settings.iterations } : {}),
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
    engine: (t) => WorkerEngine.create(t),
  })).bytes, log);
}

/** The newest `.cache/<dir>/<prefix>*<suffix>` with its note, or undefined. */
function newestCached(dir: string, prefix: string, suffix: string): string | undefined {
  const d = join(ROOT, ".cache", dir);
  if (!existsSync(d)) return undefined;
  const found = readdirSync(d).filter((f) => f.startsWith(prefix) && f.endsWith(suffix) && existsSync(join(d, `${f}.json`)));
  return found.sort((a, b) => statSync(join(d, b)).mtimeMs - statSync(join(d, a)).mtimeMs)[0];
}

/** The largest HEVC stream (bench:rd's x265 settings) of `volume` within `targetBytes`, or null when none fits. */
export async function cachedHevc(volume: Volume, name: string, targetBytes: number, log: (s: string) => void = () => {}): Promise<Cached | null> {
  const codec = videoCodec("hevc");
  if ((await codec.available()) !== true) return null;
  const r = await cachedBytes("hevc", `${name}-${targetBytes}-${volumeHash(volume)}.hevc`, async () => (await codec.encode(volume, targetBytes))?.stream ?? new Uint8Array(0), log);
  return r.bytes.length ? r : null;
}
