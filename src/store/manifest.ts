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
import { chunkBox, type LevelPlan } from "./plan.js";

/** The manifest's file name at the top of the store. */
export const MANIFEST_NAME = "volmicro-manifest.json";
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
 * The manifest's layout version: 3 since it holds the levels' continuous backgrounds (2: jobs carry
 * their planned CRC-32, the input its peak). A run planned by a vmg of another layout is refused, never half-read.
 */
export const RUN_MANIFEST_VERSION = 3;

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
  /** [level, cz, cy, cx, bytes, crc] per job, levels in order, chunks in C order. */
  jobs: Array<[number, number, number, number, number, number]>;
  /** Set by whichever run assembles the last shard and writes the metadata. */
  complete: boolean;
}

export function makeManifest(input: RunManifest["input"], settings: RunManifest["settings"], codec: GaussianCodecConfig, levels: LevelPlan[], jobs: PlannedJob[], backgrounds?: number[][]): RunManifest {
  return {
    volmicro_run: RUN_MANIFEST_VERSION, input, settings, codec,
    levels: levels.map((l) => ({ path: l.path, shape: l.shape, chunkGrid: l.chunkGrid, perShard: l.perShard, shardGrid: l.shardGrid })),
    ...(backgrounds ? { backgrounds } : {}),
    jobs: jobs.map((j) => [j.level, ...j.chunk, j.bytes, j.crc]), complete: false,
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
  if (!Array.isArray(o.levels) || !Array.isArray(o.jobs) || typeof o.settings !== "object" || o.settings === null) throw new Error("its levels, jobs or settings are missing");
  if (o.settings["background"] === "continuous") {
    const nodes = (l: LevelLayout) => nodeGrid(l.chunkGrid).reduce((n, g) => n * g, 1);
    const bg = o.backgrounds, levels = o.levels;
    if (!Array.isArray(bg) || bg.length !== levels.length || !bg.every((b, i) => Array.isArray(b) && b.length === nodes(levels[i]!) && b.every(Number.isFinite))) {
      throw new Error("its continuous backgrounds are missing or not one finite value per chunk corner of each level");
    }
  }
  for (const [k, j] of o.jobs.entries()) {
    if (!Array.isArray(j) || j.length !== 6 || !j.every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`its job ${k} is not [level, cz, cy, cx, cap, crc] of non-negative integers`);
  }
  return o as RunManifest;
}

/** The plan's identity: the manifest without its progress flag (runs must agree on it exactly). */
export function planKey(m: RunManifest): string {
  return JSON.stringify({ ...m, complete: false });
}

export function manifestBytes(m: RunManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m) + "\n");
}

/** The manifest's jobs, as the planning pass made them. */
export function plannedJobs(m: RunManifest): PlannedJob[] {
  return m.jobs.map(([level, cz, cy, cx, bytes, crc]) => ({ level, chunk: [cz, cy, cx], bytes, crc }));
}

/** Job k belongs to run i of n (strided, so each run gets a share of every level and region). */
export function inShare(k: number, share: { index: number; count: number } | undefined): boolean {
  return share === undefined || k % share.count === share.index;
}

/** The folder of a plan's staged chunks and temporaries, relative to the store (`plan`: its identity, planId). */
export function planStaging(plan: string): string {
  return `${STAGING_NAME}/${plan}`;
}

/** The staged file of a chunk of the plan, relative to the store. */
export function stagedPath(plan: string, j: PlannedJob): string {
  return `${planStaging(plan)}/${j.level}/${j.chunk.join(".")}`;
}

/** One shard of a level: its file (relative to the store) and its inner chunks' job indices in C order (-1 outside the grid). */
export interface PlannedShard {
  level: number;
  path: string;
  jobs: number[];
}

export function plannedShards(levels: LevelLayout[], jobs: PlannedJob[]): PlannedShard[] {
  const at = new Map(jobs.map((j, k) => [`${j.level}/${j.chunk.join()}`, k]));
  const out: PlannedShard[] = [];
  levels.forEach((l, li) => {
    const [pz, py, px] = l.perShard;
    for (let sz = 0; sz < l.shardGrid[0]; sz++) for (let sy = 0; sy < l.shardGrid[1]; sy++) for (let sx = 0; sx < l.shardGrid[2]; sx++) {
      const inner: number[] = [];
      for (let iz = 0; iz < pz; iz++) for (let iy = 0; iy < py; iy++) for (let ix = 0; ix < px; ix++) {
        inner.push(at.get(`${li}/${[sz * pz + iz, sy * py + iy, sx * px + ix].join()}`) ?? -1);
      }
      out.push({ level: li, path: `${l.path}/c/${sz}/${sy}/${sx}`, jobs: inner });
    }
  });
  return out;
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

export function failedBlock(levels: LevelLayout[], j: PlannedJob, chunk: number, error: string, attempts: number): FailedBlock {
  return { level: j.level, chunk: j.chunk, box: chunkBox(levels[j.level]!, j.chunk, chunk), error, attempts };
}

/** "level 0 chunk [1, 0, 2] (voxels z 8:16, y 0:8, x 16:24)". */
export function describeBlock(b: Pick<FailedBlock, "level" | "chunk" | "box">): string {
  const { z0, z1, y0, y1, x0, x1 } = b.box;
  return `level ${b.level} chunk [${b.chunk.join(", ")}] (voxels z ${z0}:${z1}, y ${y0}:${y1}, x ${x0}:${x1})`;
}
