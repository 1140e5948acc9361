/**
 * The queue's jobs and what each does, on the shared job model (src/node/store-writer.ts): a fit
 * stages job k's chunk, a shard job assembles its shard once its fits are done, the finish job
 * (parent of every shard) writes the metadata. Each is idempotent, so BullMQ's at-least-once
 * delivery (a stalled job runs again) leaves the same store.
 */
import type { Box } from "../core/background.js";
import type { Shape3 } from "../core/gaussian.js";
import { VolumeReadError } from "../io/errors.js";
import { openVolume, type OpenVolumeOptions } from "../node/open-volume.js";
import { StoreRun } from "../node/store-run.js";
import { assembleAndFinish, blockCrc, blockPlanFromManifest, jobBlock, runLayout, type BlockPlan } from "../node/store-writer.js";
import { fitChunk } from "../store/block-fit.js";
import { describeBlock, planKey } from "../store/manifest.js";

export interface FitJobData {
  store: string;
  input: string;
  read: OpenVolumeOptions;
  k: number;
  level: number;
  chunk: Shape3;
  box: Box;
  /** CRC-32 of the block's voxels as planned. */
  crc: number;
}

export interface ShardJobData { store: string; shard: number }

export interface FinishJobData {
  store: string;
  /** Whole-store byte cap. */
  bytes: number;
  /** The store's metadata files (path → base64), written when it finishes. */
  meta: Record<string, string>;
}

export type FitResult = { fitted: boolean };
export type FinishResult = { complete: boolean; assembled: number };

/** The voxels a worker read (one read of the input per process and plan: the jobs of a store share it). */
const plans = new Map<string, Promise<BlockPlan>>();

/** Fits and stages job k unless it is staged or the store is complete. */
export async function runFitJob(d: FitJobData): Promise<FitResult> {
  const run = await StoreRun.attach(d.store);
  const j = runLayout(run.manifest).jobs[d.k];
  if (!j) throw new VolumeReadError(d.store, `job ${d.k} is not in the run's plan (the queue holds jobs of another plan)`);
  if ((await run.complete()) || (await run.staged(j))) return { fitted: false };
  const key = JSON.stringify([d.input, d.read, planKey(run.manifest)]);
  let plan = plans.get(key);
  if (!plan) {
    plan = openVolume(d.input, d.read).then((v) => blockPlanFromManifest(v, run.manifest));
    plans.set(key, plan);
    plan.catch(() => plans.delete(key)); // a failed read is tried again by the job's next attempt
  }
  const job = jobBlock(await plan, d.k);
  const crc = blockCrc(job);
  if (crc !== d.crc) {
    throw new VolumeReadError(d.input, `${describeBlock(d)}: its voxels are not those planned (CRC-32 ${crc.toString(16)}, planned ${d.crc.toString(16)}): the input is corrupt or changed since vmg compress --queue planned the store`);
  }
  await run.stage(j, await fitChunk(job));
  return { fitted: true };
}

/** Assembles the shard when all its chunks are staged (a failed fit leaves it for a later run). */
export async function runShardJob(d: ShardJobData): Promise<{ assembled: number }> {
  const run = await StoreRun.attach(d.store);
  const layout = runLayout(run.manifest);
  if (await run.complete()) return { assembled: 0 };
  return { assembled: (await run.assemble([layout.shards[d.shard]!], layout.jobs)).assembled };
}

/** Assembles what is ready and finishes the store when every shard is in. */
export async function runFinishJob(d: FinishJobData): Promise<FinishResult> {
  const run = await StoreRun.attach(d.store);
  const meta = new Map(Object.entries(d.meta).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, "base64"))]));
  const r = await assembleAndFinish(run, runLayout(run.manifest), meta, d.bytes);
  if (r.complete) await run.clearStaging();
  return r;
}
