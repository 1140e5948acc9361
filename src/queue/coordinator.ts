/**
 * The coordinator's half of `vmg compress … --queue redis://…`: after the planning pass and the
 * run's opening (src/node/store-writer.ts), it registers the store and enqueues one BullMQ flow
 * for it — block fits, children of their shard's assembly, children of the store's finish — then
 * (unless detached) follows the queues until the finish job has run.
 */
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { FlowProducer, type FlowJob } from "bullmq";
import type { OpenVolumeOptions } from "../node/open-volume.js";
import { planId } from "../node/store-run.js";
import type { StorePlan } from "../node/store-writer.js";
import { levelJobCounts, plannedShard, shardCount } from "../store/job-table.js";
import { doneKey, queueNames, redisOptions, REGISTRY_KEY, storeNamespace, type RegisteredStore } from "./connection.js";
import type { FinishJobData, FitJobData, ShardJobData } from "./jobs.js";
import { doneJobs, KEEP_FAILED, storeStatus, type StoreStatus } from "./status.js";
import { QueueError } from "./errors.js";
import { connectRedis, FINISH_ID, fitId, onRedis, SEAL_ID, shardId, StoreQueues } from "./store-queues.js";

export interface EnqueueOptions {
  input: string;
  read: OpenVolumeOptions;
  /** Tries per block job before it counts as failed; retried after 1 s, 2 s, 4 s, … */
  attempts: number;
  backoffMs?: number;
  /** Fit jobs sent to Redis at once (default FITS_PER_ADD). */
  fitsPerAdd?: number;
}

/**
 * Registers the store and enqueues its flow, unless the queues already hold this plan's unfinished
 * flow (a coordinator started again after being killed joins it). A finished flow of an incomplete
 * store (blocks failed, or the store was removed), a flow whose enqueueing was cut short (its seal
 * still waits), one whose finish waits for no job or another plan's jobs are removed first, so running the command again retries what
 * is not staged. Job ids are fixed per job, so no job is queued twice.
 */
export async function enqueueStore(url: string, store: string, plan: StorePlan, o: EnqueueOptions): Promise<RegisteredStore> {
  const ns = storeNamespace(store), names = queueNames(ns), id = planId(plan.manifest);
  const entry: RegisteredStore = {
    ns, store: resolve(store), input: o.input, read: o.read, levels: plan.manifest.levels, chunk: plan.chunk, plan: id,
    // a level's chunks cover its voxels once
    levelJobs: levelJobCounts(plan.levels), voxels: plan.levels.reduce((n, l) => n + l.shape[0] * l.shape[1] * l.shape[2], 0), queued: new Date().toISOString(),
  };
  const redis = await connectRedis(url);
  const q = new StoreQueues(url, ns);
  try {
    await onRedis(url, async () => {
      const before = await redis.hget(REGISTRY_KEY, ns);
      const earlier = before === null ? undefined : (JSON.parse(before) as RegisteredStore).plan;
      const state = await q.finish.getJobState(FINISH_ID);
      const seal = state === "unknown" ? undefined : ((await q.finish.getJob(FINISH_ID))?.data as FinishJobData | undefined)?.seal;
      const cutShort = seal !== undefined && (await q.finish.getJobState(seal)) === "delayed";
      const stale = (earlier !== undefined && earlier !== id) || state === "completed" || state === "failed" || cutShort || (await finishOrphaned(q));
      if (stale) await q.obliterate();
      if (earlier !== undefined && earlier !== id) await redis.del(doneKey(ns, earlier));
      if (stale || state === "unknown") await addFlow(url, names, store, plan, id, o);
      await redis.hset(REGISTRY_KEY, ns, JSON.stringify(entry)); // workers find the store here: its jobs are in
    });
  } finally {
    await q.close();
    redis.disconnect();
  }
  return entry;
}

/** Fit jobs a coordinator sends Redis at once (with their shards): its memory and each transaction stay small whatever the run's size. */
const FITS_PER_ADD = 4096;
/**
 * The seal waits this long unless the coordinator releases it: a coordinator killed while adding
 * the flow leaves a flow that finishes (incomplete) a day later at the latest, if no run again
 * replaces it first.
 */
const SEAL_DELAY_MS = 24 * 3600 * 1000;

/**
 * The flow, added in parts of about FITS_PER_ADD fits: the finish job with its first shards and a
 * seal (a child that waits, delayed, in the finish queue), then the other shards as its children,
 * then the seal released, so the finish cannot run before every shard is its child. The seal's id
 * is this enqueue's own, so a coordinator releases only its seal (not that of another coordinator
 * that replaced its flow meanwhile); a seal that fails does not hold the finish back. Redis keeps
 * none of its finished fits and shards (a run may have 10^6 jobs): completed ones are removed (the
 * done bitmap counts them), failed ones kept up to KEEP_FAILED per queue (the report's; for fits
 * the worker's options say so, not each job's); the finish job is kept (its result is the store's
 * state). A fit job holds only its number and plan: Redis keeps each queued job's data and options.
 */
async function addFlow(url: string, names: ReturnType<typeof queueNames>, store: string, plan: StorePlan, id: string, o: EnqueueOptions): Promise<void> {
  const path = resolve(store);
  const finished = { removeOnComplete: true, removeOnFail: { count: KEEP_FAILED } };
  const fitOpts = { attempts: o.attempts, backoff: { type: "exponential", delay: o.backoffMs ?? 1000 }, ignoreDependencyOnFailure: true };
  const fit = (k: number): FlowJob => ({ name: "fit", queueName: names.fit, data: { k, plan: id } satisfies FitJobData, opts: { jobId: fitId(k), ...fitOpts } });
  const inner = (i: number) => plannedShard(plan.levels, i)!.jobs.filter((k) => k >= 0);
  const parent = { id: FINISH_ID, queue: `bull:${names.finish}` };
  const shard = (i: number, first: boolean): FlowJob => ({
    name: "shard", queueName: names.shard, data: { store: path, plan: id, shard: i } satisfies ShardJobData,
    opts: { jobId: shardId(i), attempts: o.attempts, ignoreDependencyOnFailure: true, ...finished, ...(first ? {} : { parent }) },
    children: inner(i).map(fit),
  });
  const parts: number[][] = [[]];
  for (let i = 0, fits = 0, shards = shardCount(plan.levels); i < shards; i++) {
    const n = inner(i).length;
    if (fits + n > (o.fitsPerAdd ?? FITS_PER_ADD) && parts.at(-1)!.length) { parts.push([]); fits = 0; }
    parts.at(-1)!.push(i);
    fits += n;
  }
  const meta: Record<string, string> = {};
  for (const [k, v] of plan.meta) meta[k] = Buffer.from(v).toString("base64");
  const flows = new FlowProducer({ connection: redisOptions(url, "bounded") });
  flows.on("error", () => {}); // a lost connection fails add(), which says so
  const q = new StoreQueues(url, names.ns);
  try {
    const sealId = `${SEAL_ID}-${randomUUID()}`;
    const seal: FlowJob = { name: SEAL_ID, queueName: names.finish, data: {}, opts: { jobId: sealId, delay: SEAL_DELAY_MS, ignoreDependencyOnFailure: true } };
    await flows.add({
      name: "finish", queueName: names.finish, data: { store: path, plan: id, bytes: plan.manifest.settings.bytes as number, meta, seal: sealId } satisfies FinishJobData,
      opts: { jobId: FINISH_ID, attempts: o.attempts }, children: [seal, ...parts[0]!.map((i) => shard(i, true))],
    });
    for (const part of parts.slice(1)) await flows.addBulk(part.map((i) => shard(i, false)));
    await (await q.finish.getJob(sealId))?.promote();
  } finally {
    await flows.close().catch(() => flows.disconnect());
    await q.close();
  }
}

/**
 * Whether the store's finish job waits for children while no job of the store can still run (a
 * child failed that holds it back, such as an older coordinator's seal, or its jobs were lost):
 * it never will. A parent moves on in the same step as its last child, so this is not a passing state.
 */
async function finishOrphaned(q: StoreQueues): Promise<boolean> {
  if ((await q.finish.getJobState(FINISH_ID)) !== "waiting-children") return false;
  let live = 0;
  for (const queue of [q.fit, q.shard, q.finish]) {
    const counts = await queue.getJobCounts("active", "waiting", "delayed", "prioritized", "waiting-children");
    live += Object.values(counts).reduce((a, b) => a + b, 0);
  }
  // the finish job itself, still held back: read again after counting, for a last child that
  // completed between the two reads (the finish then waits to run: not orphaned)
  return live === 1 && (await q.finish.getJobState(FINISH_ID)) === "waiting-children";
}

/**
 * Follows the store's queues until its finish job has run (polling; `onProgress` gets block jobs
 * done, their total and an estimate of their voxels), then returns the store's status. A finish
 * that waits for no job (its flow was cut, it can never run) is a QueueError, not a wait forever.
 */
export async function watchStore(url: string, entry: RegisteredStore, onProgress: (done: number, total: number, voxels: number) => void, pollMs = 500): Promise<StoreStatus> {
  const redis = await connectRedis(url);
  const q = new StoreQueues(url, entry.ns);
  const total = entry.levelJobs.reduce((a, b) => a + b, 0);
  try {
    return await onRedis(url, async () => {
      for (let orphaned = 0; ; ) {
        const done = (await doneJobs(redis, entry)) + ((await q.fit.getJobCounts("failed")).failed ?? 0);
        onProgress(done, total, (entry.voxels * done) / Math.max(1, total));
        const state = await q.finish.getJobState(FINISH_ID);
        if (state === "completed" || state === "failed" || state === "unknown") return await storeStatus(entry, q, redis);
        orphaned = state === "waiting-children" && (await finishOrphaned(q)) ? orphaned + 1 : 0;
        if (orphaned >= 2) throw new QueueError(entry.store, "its finish job waits for no job, so it can never run: run the same command again to queue what is not staged");
        await new Promise((r) => setTimeout(r, pollMs));
      }
    });
  } finally {
    await q.close();
    redis.disconnect();
  }
}
