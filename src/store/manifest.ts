/**
 * The run manifest of a store being written (docs/vmg-zarr-codec.md § 6.3): everything that fixes
 * the store's bytes — the input's fingerprint, the settings, the levels and every chunk's byte cap —
 * computed by a planning pass before any fit. Each chunk's bytes are then a pure function of its
 * block and this plan, so any number of runs, in any order, retried or repeated, write the same store.
 */
import type { Shape3 } from "../core/gaussian.js";
import type { Box } from "../core/background.js";
import { GAUSSIAN_CODEC_VERSION, type GaussianCodecConfig } from "./codec/config.js";
import { nodeGrid } from "./continuous-background.js";
import { JOB_RECORD_BYTES, JOB_TABLE_HEADER_BYTES, jobCount, jobTableDigest } from "./job-table.js";
import { chunkBox, type LevelPlan } from "./plan.js";

/** The manifest's file name at the top of the store. */
export const MANIFEST_NAME = "volmicro-manifest.json";

/**
 * The file of a plan's job table (job-table.ts) beside the manifest, named by the plan (planId), so
 * runs of another plan on the same path never write over it; like the manifest, a record of the
 * run, not the store's data.
 */
export function jobTableName(plan: string): string {
  return `volmicro-manifest.${plan}.jobs`;
}

/** Whether a name at the store's top is the run's record (the manifest or a job table), not the store's data. */
export function isRunFile(name: string): boolean {
  return name === MANIFEST_NAME || /^volmicro-manifest\.[0-9a-f]{16}\.jobs$/.test(name);
}
/**
 * The per-run staging area: one file per finished chunk until every shard is assembled, in a folder
 * of the run's plan (stagedPath), so a job of another plan cannot stage into this run.
 */
export const STAGING_NAME = "volmicro-staging";

/** One chunk's fit: its level, chunk position [z, y, x], byte cap and the CRC-32 of what it reads, as planned. */
export interface PlannedJob {
  level: number;
  chunk: Shape3;
  bytes: number;
  /** CRC-32 of the voxels the job reads when planned (block-plan.ts plannedCrc: the block, halo included, at level 0; the chunk below): a run that reads them again checks it. */
  crc: number;
}

/** A level's layout as the manifest records it (what shard assembly and the store's figures need). */
export type LevelLayout = Pick<LevelPlan, "path" | "shape" | "chunkGrid" | "perShard" | "shardGrid">;

/**
 * The manifest's layout version: 4 since its settings record the fit kernel path
 * (store/fit-kernel.ts) and a block's bytes follow the newer fit rules (a small store's steps, the
 * continuous background's constant head and its budget); 3 put the jobs in a table of fixed-size
 * records beside it (job-table.ts) with the levels' continuous backgrounds; 2, the released one, a
 * JSON list of jobs with their planned CRC-32. A run planned by a vmg of another layout is refused
 * for --resume and --blocks, never half-read or finished with blocks of other rules; finished
 * stores decode whatever their manifest's version.
 */
export const RUN_MANIFEST_VERSION = 4;

export interface RunManifest {
  volmicro_run: typeof RUN_MANIFEST_VERSION;
  /** The input's shape, type, fingerprint (CRC-32 of its voxels) and data range (max − min, the PSNR peak). */
  input: { shape: Shape3; dtype: string; crc32: number; peak: number };
  settings: Record<string, string | number>;
  codec: GaussianCodecConfig;
  levels: LevelLayout[];
  /**
   * Per level, the nodes of its continuous background (store/continuous-background.ts: field units,
   * float16 numbers, nodeGrid of the level's chunks per axis, z, y, x order, x fastest), when the
   * settings' background is "continuous".
   */
  backgrounds?: number[][];
  /** The job table (jobTableName): its jobs (levels in order, chunks in C order) and its digest (jobTableDigest: the CRC-32 of its header and records' fields), part of the plan's identity. */
  jobs: { count: number; crc32: number };
  /** Set by whichever run assembles the last shard and writes the metadata. */
  complete: boolean;
}

/** The manifest of a plan whose job table is `table` (encodeJobTable's bytes), with its levels' continuous `backgrounds` if any. */
export function makeManifest(input: RunManifest["input"], settings: RunManifest["settings"], codec: GaussianCodecConfig, levels: LevelPlan[], table: Uint8Array, backgrounds?: number[][]): RunManifest {
  return {
    volmicro_run: RUN_MANIFEST_VERSION, input, settings, codec,
    levels: levels.map((l) => ({ path: l.path, shape: l.shape, chunkGrid: l.chunkGrid, perShard: l.perShard, shardGrid: l.shardGrid })),
    ...(backgrounds ? { backgrounds } : {}),
    jobs: { count: (table.length - JOB_TABLE_HEADER_BYTES) / JOB_RECORD_BYTES, crc32: jobTableDigest(table) }, complete: false,
  };
}

/**
 * A parsed manifest checked against this layout (throws an Error saying what differs): a run of
 * another vmg version, or a damaged file, must not reach a fit as undefined caps or CRCs.
 */
export function checkManifest(m: unknown): RunManifest {
  const o = m as Partial<RunManifest> | null;
  if (typeof o !== "object" || o === null) throw new Error("not a JSON object");
  if (o.volmicro_run !== RUN_MANIFEST_VERSION) {
    throw new Error(`its layout is ${JSON.stringify(o.volmicro_run)}, this vmg reads ${RUN_MANIFEST_VERSION}: the run was planned by another vmg version; plan it again on a new path, or remove it`);
  }
  if (o.codec?.version !== GAUSSIAN_CODEC_VERSION) throw new Error(`its codec is version ${JSON.stringify(o.codec?.version)}, this vmg writes ${GAUSSIAN_CODEC_VERSION}`);
  const input = o.input;
  if (!input || !Array.isArray(input.shape) || input.shape.length !== 3 || typeof input.dtype !== "string" || !Number.isInteger(input.crc32) || !Number.isFinite(input.peak)) throw new Error("its input (shape, dtype, crc32, peak) is malformed");
  if (!Array.isArray(o.levels) || typeof o.jobs !== "object" || o.jobs === null || typeof o.settings !== "object" || o.settings === null) throw new Error("its levels, jobs or settings are missing");
  const grid = (g: unknown) => Array.isArray(g) && g.length === 3 && g.every((x) => Number.isInteger(x) && x >= 1);
  for (const [i, l] of o.levels.entries()) {
    if (typeof l?.path !== "string" || ![l.shape, l.chunkGrid, l.perShard, l.shardGrid].every(grid)) throw new Error(`its level ${i} is not a layout (path, shape, chunkGrid, perShard, shardGrid)`);
  }
  if (o.settings["background"] === "continuous") {
    const nodes = (l: LevelLayout) => nodeGrid(l.chunkGrid).reduce((n, g) => n * g, 1);
    const bg = o.backgrounds, levels = o.levels;
    if (!Array.isArray(bg) || bg.length !== levels.length || !bg.every((b, i) => Array.isArray(b) && b.length === nodes(levels[i]!) && b.every(Number.isFinite))) {
      throw new Error("its continuous backgrounds are missing or not one finite value per chunk corner of each level");
    }
  }
  if (!Number.isInteger(o.jobs.crc32) || o.jobs.count !== jobCount(o.levels)) throw new Error(`its jobs (${JSON.stringify(o.jobs)}) are not the ${jobCount(o.levels)} chunks of its levels with their table's CRC-32`);
  return o as RunManifest;
}

/** The plan's identity: the manifest without its progress flag (runs must agree on it exactly; the job table by its CRC-32). */
export function planKey(m: RunManifest): string {
  return JSON.stringify({ ...m, complete: false });
}

/**
 * What fixes a plan's jobs: the manifest without them and without the continuous backgrounds the
 * planning pass fitted with them (its input, settings, codec and levels).
 */
export function planInputsKey(m: RunManifest): string {
  return JSON.stringify({ ...m, backgrounds: undefined, jobs: null, complete: false });
}

export function manifestBytes(m: RunManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m) + "\n");
}

/** Job k belongs to run i of n (strided, so each run gets a share of every level and region). */
export function inShare(k: number, share: { index: number; count: number } | undefined): boolean {
  return share === undefined || k % share.count === share.index;
}

/** The folder of a plan's staged chunks and temporaries, relative to the store (`plan`: its identity, planId). */
export function planStaging(plan: string): string {
  return `${STAGING_NAME}/${plan}`;
}

/** A job's place in the run: its level and chunk. */
export type JobPlace = Pick<PlannedJob, "level" | "chunk">;

/** The staged file of a chunk of the plan, relative to the store. */
export function stagedPath(plan: string, j: JobPlace): string {
  return `${planStaging(plan)}/${j.level}/${j.chunk.join(".")}`;
}

/** One shard of a level: its file (relative to the store) and its inner chunks' job indices in C order (-1 outside the grid). */
export interface PlannedShard {
  level: number;
  path: string;
  jobs: number[];
}

/** A block job that failed after its retries, in the words a user checks: level, chunk, voxel box, error. */
export interface FailedBlock {
  level: number;
  chunk: Shape3;
  /** The chunk's voxels at its level (the block adds the halo). */
  box: Box;
  error: string;
  attempts: number;
}

export function failedBlock(levels: LevelLayout[], j: JobPlace, chunk: number, error: string, attempts: number): FailedBlock {
  return { level: j.level, chunk: j.chunk, box: chunkBox(levels[j.level]!, j.chunk, chunk), error, attempts };
}

/** "level 0 chunk [1, 0, 2] (voxels z 8:16, y 0:8, x 16:24)". */
export function describeBlock(b: Pick<FailedBlock, "level" | "chunk" | "box">): string {
  const { z0, z1, y0, y1, x0, x1 } = b.box;
  return `level ${b.level} chunk [${b.chunk.join(", ")}] (voxels z ${z0}:${z1}, y ${y0}:${y1}, x ${x0}:${x1})`;
}
