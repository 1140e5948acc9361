/**
 * The golden files' manifest (test/fixtures/golden/golden.json) and the tolerances of
 * docs/vmg-format.md § 2.6, shared by the script that makes the files and the test that checks them.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Box } from "../../src/core/background.js";
import type { DType } from "../../src/core/dtype.js";

export const GOLDEN_DIR = fileURLToPath(new URL("../fixtures/golden/", import.meta.url));

export interface GoldenCase {
  id: string;
  scale: number;
  box: Box;
  /** The same box as `vmg decode --box` takes it (scale-K voxels). */
  boxFlag: string;
  /** Field values (float32 LE, x fastest) of a float64 brute-force evaluation. */
  field: string;
  /** Stored values of the file's dtype (LE), mapped from the float64 field. */
  values: string;
}

export interface GoldenFixture {
  name: string;
  file: string;
  /** How the file was made. */
  made: string;
  dtype: DType;
  valueOffset: number;
  valueScale: number;
  /** Largest |amplitude| of the file's Gaussians (the "peak" of the tolerance). */
  peak: number;
  /** Decoded Gaussian parameters, count × 11 float32 LE, in stored order. */
  params: string;
  /** `vmg info --json` fields that describe the file (every key but `file`). */
  info: Record<string, unknown>;
  cases: GoldenCase[];
}

export interface GoldenManifest {
  note: string;
  fixtures: GoldenFixture[];
}

/** Largest difference a conforming decoder's field value may have from the exact value F. */
export function fieldTolerance(peak: number, exact: number): number {
  return 1e-4 * peak + 2 ** -22 * Math.abs(exact);
}

/** Steps an integer stored value may be off by: the rounding boundaries k + ½ within `tol` of the mapped value a + b·F. */
export function roundingBoundaries(mapped: number, tol: number): number {
  return Math.floor(mapped + tol + 0.5) - Math.floor(mapped - tol + 0.5);
}

export function readManifest(): GoldenManifest {
  return JSON.parse(readFileSync(GOLDEN_DIR + "golden.json", "utf8")) as GoldenManifest;
}

/** A committed little-endian array file as a typed array of its element type. */
export function readFloat32(name: string): Float32Array {
  const b = readFileSync(GOLDEN_DIR + name);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function readBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(GOLDEN_DIR + name));
}
