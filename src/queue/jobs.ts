/**
 * The queue's jobs and what each does, on the shared job model (src/node/store-writer.ts): a fit
 * stages job k's chunk, a shard job assembles its shard once its fits are done, the finish job
 * (parent of every shard) writes the metadata. Each is idempotent, so BullMQ's at-least-once
 * delivery (a stalled job runs again) leaves the same store.
 *
 * A job's own work and memory do not grow with the run: the manifest (a few fields per level) is
 * parsed once per thread and store, and again only when its file changes (a re-plan, the store's
 * completion; each job checks its stamp, one stat); a fit reads its own cap and CRC from the job
 * table by offset. A fit job carries only its number and plan (Redis holds 10^6 of them): where the
 * store and its input are comes from the store's registry entry, through the fit thread.
 */
import { VolumeWriteError } from "../io/errors.js";
import { openVolumeSource, type OpenVolumeOptions } from "../node/open-volume.js";
import { StoreRun } from "../node/store-run.js";
import { assembleAndFinish, blockPlanFromManifest, jobBlock, runLayout, type BlockPlan, type RunLayout } from "../node/store-writer.js";
import { fitChunk } from "../store/block-fit.js";
import { checkPlannedBlock } from "../store/block-plan.js";
import { plannedShard, shardCount, type JobTable } from "../store/job-table.js";
import { chunkBox } from "../store/plan.js";

/** A fit job: job k of the run's job table, for the plan it was queued for (planId: a store replaced by another plan refuses it). */
export interface FitJobData {
  k: number;
  plan: string;
}

/** Where a store's fit jobs find their run and its input (its registry entry, given to the fit threads). */
export interface FitRun {
  store: string;
  input: string;
  read: OpenVolumeOptions;
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
  /** Job id of the flow's seal (one per enqueue: its coordinator releases only its own). */
  seal: string;
}

export type FitResult = { fitted: boolean };
export type FinishResult = { complete: boolean; assembled: number };

/** A run as this thread last read its manifest, and what its jobs take from it. */
interface KnownRun {
  stamp: string | undefined;
  run: StoreRun;
  layout: RunLayout;
  /** The run's jobs, read from its table one at a time. */
  jobs: JobTable;
  /** The input source and level scratch this thread opened for the run's fits, for the input and read options they were opened with. */
  blocks?: { key: string; plan: Promise<BlockPlan> };
}

/** Runs known to this thread, the most recent last; a worker serves a few stores at a time. */
const known = new Map<string, KnownRun>();
const KNOWN_RUNS = 4;

/** The run at `store` (its manifest parsed again only when the file changed since this thread read it). */
async function knownRun(store: string): Promise<KnownRun> {
  const stamp = await StoreRun.stamp(store);
  const had = known.get(store);
  if (had && stamp !== undefined && had.stamp === stamp) return had;
  const run = await StoreRun.attach(store); // read after the stamp: a change in between is seen by the next call
  const now: KnownRun = { stamp, run, layout: runLayout(run.manifest), jobs: run.jobs() };
  known.delete(store);
  known.set(store, now);
  for (const old of known.keys()) if (known.size > KNOWN_RUNS) known.delete(old);
  return now;
}

/** Fits and stages job k unless it is staged or the store is complete. */
export async function runFitJob(at: FitRun, job: FitJobData): Promise<FitResult> {
  const d = { ...at, ...job };
  let r = await knownRun(d.store);
  samePlan(d, r.run);
  const j = await r.jobs.job(d.k);
  if (r.run.manifest.complete || (await r.run.staged(j))) return { fitted: false };
  const key = JSON.stringify([d.input, d.read]);
  if (r.blocks?.key !== key) {
    const run = r, entry = { key, plan: openVolumeSource(d.input, d.read).then((v) => blockPlanFromManifest(v, d.store, run.run.manifest, run.jobs)) };
    entry.plan.catch(() => { if (run.blocks === entry) delete run.blocks; }); // a failed read is tried again by the job's next attempt
    run.blocks = entry;
  }
  const block = await jobBlock(await r.blocks!.plan, d.k);
  checkPlannedBlock(block, j.crc, d.input, { ...j, box: chunkBox(r.layout.levels[j.level]!, j.chunk, r.layout.chunk) }, "since vmg compress --queue planned the store");
  const bytes = await fitChunk(block);
  // the store may have been completed, or replaced by a run of another plan, during the fit
  r = await knownRun(d.store);
  samePlan(d, r.run);
  if (r.run.manifest.complete) return { fitted: false };
  try {
    await r.run.stage(j, bytes); // into the plan's own folder: gone if the store was replaced since
  } catch (e) {
    const now = await knownRun(d.store);
    if (now.run.manifest.complete) return { fitted: false }; // a late duplicate: the store is whole
    samePlan(d, now.run);
    throw e;
  }
  return { fitted: true };
}

function samePlan(d: { store: string; plan: string }, run: StoreRun): void {
  if (run.plan !== d.plan) throw new VolumeWriteError(d.store, `holds a run of another plan (${run.plan}) than this job's (${d.plan}): the store was replaced, and its own jobs are queued anew`);
}

/** Assembles the shard when all its chunks are staged (a failed fit leaves it for a later run). */
export async function runShardJob(d: ShardJobData): Promise<{ assembled: number }> {
  const r = await knownRun(d.store);
  samePlan(d, r.run);
  const shard = plannedShard(r.layout.levels, d.shard);
  if (!shard) throw new VolumeWriteError(d.store, `has no shard ${d.shard} (its plan has ${shardCount(r.layout.levels)})`);
  if (r.run.manifest.complete) return { assembled: 0 };
  return { assembled: (await r.run.assemble([shard])).assembled };
}

/** Assembles what is ready and finishes the store when every shard is in. */
export async function runFinishJob(d: FinishJobData): Promise<FinishResult> {
  const r = await knownRun(d.store);
  samePlan(d, r.run); // its metadata is its plan's: never written over a store of another
  const meta = new Map(Object.entries(d.meta).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, "base64"))]));
  const a = await assembleAndFinish(r.run, r.layout, meta, d.bytes);
  if (a.complete) await r.run.clearStaging();
  return { complete: a.complete, assembled: a.assembled };
}
