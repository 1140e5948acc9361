/**
 * The queue's jobs and what each does, on the shared job model (src/node/store-writer.ts): a fit
 * stages job k's chunk, a shard job assembles its shard once its fits are done, the finish job
 * (parent of every shard) writes the metadata. Each is idempotent, so BullMQ's at-least-once
 * delivery (a stalled job runs again) leaves the same store.
 */
import type { Box } from "../core/background.js";
import type { Shape3 } from "../core/gaussian.js";
import { VolumeWriteError } from "../io/errors.js";
import { openVolumeSource, type OpenVolumeOptions } from "../node/open-volume.js";
import { StoreRun } from "../node/store-run.js";
import { assembleAndFinish, blockPlanFromManifest, jobBlock, runLayout, type BlockPlan } from "../node/store-writer.js";
import { fitChunk } from "../store/block-fit.js";
import { checkPlannedBlock } from "../store/block-plan.js";
import type { RunManifest } from "../store/manifest.js";
import { planId } from "./connection.js";

export interface FitJobData {
  store: string;
  /** The plan the job was queued for (planId): a store replaced by another plan refuses it. */
  plan: string;
  input: string;
  read: OpenVolumeOptions;
  k: number;
  level: number;
  chunk: Shape3;
  box: Box;
  /** CRC-32 of the block's voxels as planned. */
  crc: number;
}

export interface ShardJobData {
  store: string;
  /** The plan the job was queued for: a shard or finish job of a replaced store's plan does nothing to the new one. */
  plan: string;
  shard: number;
}

export interface FinishJobData {
  store: string;
  plan: string;
  /** Whole-store byte cap. */
  bytes: number;
  /** The store's metadata files (path → base64), written when it finishes. */
  meta: Record<string, string>;
}

export type FitResult = { fitted: boolean };
export type FinishResult = { complete: boolean; assembled: number };

/** The input source and level scratch this thread opened, for the store it worked on last (its jobs share them). */
let cached: { key: string; plan: Promise<BlockPlan> } | undefined;

/** Fits and stages job k unless it is staged or the store is complete. */
export async function runFitJob(d: FitJobData): Promise<FitResult> {
  const run = await StoreRun.attach(d.store);
  samePlan(d, run.manifest);
  const j = runLayout(run.manifest).jobs[d.k]!;
  if ((await run.complete()) || (await run.staged(j))) return { fitted: false };
  // the store too: two stores of one input and settings share a plan id but not their level scratch
  const key = JSON.stringify([d.store, d.input, d.read, d.plan]);
  if (cached?.key !== key) {
    const entry = { key, plan: openVolumeSource(d.input, d.read).then((v) => blockPlanFromManifest(v, d.store, run.manifest)) };
    entry.plan.catch(() => { if (cached === entry) cached = undefined; }); // a failed read is tried again by the job's next attempt
    cached = entry;
  }
  const job = await jobBlock(await cached.plan, d.k);
  checkPlannedBlock(job, d.crc, d.input, d, "since vmg compress --queue planned the store");
  const bytes = await fitChunk(job);
  samePlan(d, (await StoreRun.attach(d.store)).manifest); // the store may have been replaced by a run of another plan during the fit
  await run.stage(j, bytes);
  return { fitted: true };
}

function samePlan(d: { store: string; plan: string }, m: RunManifest): void {
  const now = planId(m);
  if (now !== d.plan) throw new VolumeWriteError(d.store, `holds a run of another plan (${now}) than this job's (${d.plan}): the store was replaced, and its own jobs are queued anew`);
}

/** Assembles the shard when all its chunks are staged (a failed fit leaves it for a later run). */
export async function runShardJob(d: ShardJobData): Promise<{ assembled: number }> {
  const run = await StoreRun.attach(d.store);
  samePlan(d, run.manifest);
  const layout = runLayout(run.manifest);
  if (await run.complete()) return { assembled: 0 };
  return { assembled: (await run.assemble([layout.shards[d.shard]!], layout.jobs)).assembled };
}

/** Assembles what is ready and finishes the store when every shard is in. */
export async function runFinishJob(d: FinishJobData): Promise<FinishResult> {
  const run = await StoreRun.attach(d.store);
  samePlan(d, run.manifest); // its metadata is its plan's: never written over a store of another
  const meta = new Map(Object.entries(d.meta).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, "base64"))]));
  const r = await assembleAndFinish(run, runLayout(run.manifest), meta, d.bytes);
  if (r.complete) await run.clearStaging();
  return r;
}
