/**
 * A synthetic run for memory figures (issue #15): a uint8 zarr of absent chunks (read as zeros)
 * and a store whose run is open with a plan of 4³ chunks in 16³ shards, every job's cap and CRC as
 * a planning pass would record them — a run of 10^6 jobs without planning 10^6 chunks.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Shape3 } from "../src/core/gaussian.js";
import { StoreRun } from "../src/node/store-run.js";
import { voxelCrc } from "../src/store/block-plan.js";
import { GAUSSIAN_CODEC_VERSION } from "../src/store/codec/config.js";
import { encodeJobTable } from "../src/store/job-table.js";
import { makeManifest, type PlannedJob } from "../src/store/manifest.js";
import { halfGeometry, levelCount, planLevel, type LevelGeometry } from "../src/store/plan.js";

export const CHUNK = 4, SHARD = 16, BYTES = 1_000_000_000;

/** The settings `vmg compress <dir>/in.zarr -o … ` + SYNTHETIC_ARGS records. */
const settings = { chunk: CHUNK, shard: SHARD, bytes: BYTES, halo: 0, iterations: 5, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, allocation: "slope", keep: "overlap", name: "in" };
export const SYNTHETIC_ARGS = ["--chunk", String(CHUNK), "--shard", String(SHARD), "--size", String(BYTES), "--iterations", "5"];

/** The run at `dir`/out.ome.zarr of an `edge`³ input at `dir`/in.zarr. */
export async function syntheticRun(dir: string, edge: number): Promise<{ input: string; store: string; jobs: number; level0: number; plan: string; run: StoreRun }> {
  const shape: Shape3 = [edge, edge, edge];
  const input = join(dir, "in.zarr");
  await mkdir(input, { recursive: true });
  await writeFile(join(input, "zarr.json"), JSON.stringify({
    zarr_format: 3, node_type: "array", shape, data_type: "uint8", chunk_grid: { name: "regular", configuration: { chunk_shape: [64, 64, 64] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } }, fill_value: 0, codecs: [{ name: "bytes", configuration: { endian: "little" } }],
  }));
  const geometry: LevelGeometry[] = [{ shape }];
  for (let i = 1; i < levelCount(shape, CHUNK); i++) geometry.push(halfGeometry(geometry[i - 1]!));
  const levels = geometry.map((g, i) => planLevel(i, g, CHUNK, SHARD));
  const jobs: PlannedJob[] = [];
  const crc = voxelCrc(new Uint8Array(CHUNK ** 3)); // every block is 4³ zeros
  levels.forEach((l, li) => {
    for (let cz = 0; cz < l.chunkGrid[0]; cz++) for (let cy = 0; cy < l.chunkGrid[1]; cy++) for (let cx = 0; cx < l.chunkGrid[2]; cx++) jobs.push({ level: li, chunk: [cz, cy, cx], bytes: 40, crc });
  });
  const codec = { version: GAUSSIAN_CODEC_VERSION, encoding: "packed" as const, truncation: 3, valueOffset: 0, valueScale: 1 };
  const store = join(dir, "out.ome.zarr");
  const table = encodeJobTable(jobs);
  const run = await StoreRun.open(store, makeManifest({ shape, dtype: "uint8", crc32: 0, peak: 1 }, settings, codec, levels, table), "share", table);
  const level0 = levels[0]!.chunkGrid.reduce((a, b) => a * b, 1);
  return { input, store, jobs: jobs.length, level0, plan: run.plan, run };
}
