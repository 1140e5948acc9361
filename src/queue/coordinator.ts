/**
 * The coordinator's half of `vmg compress … --queue redis://…`: after the planning pass and the
 * run's opening (src/node/store-writer.ts), it registers the store and enqueues one BullMQ flow
 * for it — block fits, children of their shard's assembly, children of the store's finish — then
 * (unless detached) follows the queues until the finish job has run.
 */
import { resolve } from "node:path";
import { FlowProducer, type FlowJob } from "bullmq";
import type { OpenVolumeOptions } from "../node/open-volume.js";
import { jobVoxels, type StorePlan } from "../node/store-writer.js";
import { chunkBox } from "../store/plan.js";
import { parseRedisUrl, planId, queueNames, REGISTRY_KEY, storeNamespace, type RegisteredStore } from "./connection.js";
import type { FinishJobData, FitJobData, ShardJobData } from "./jobs.js";
import { storeStatus, type StoreStatus } from "./status.js";
import { connectRedis, FINISH_ID, fitId, shardId, StoreQueues } from "./store-queues.js";

export interface EnqueueOptions {
  input: string;
  read: OpenVolumeOptions;
  /** Tries per block job before it counts as failed; retried after 1 s, 2 s, 4 s, … */
  attempts: number;
  backoffMs?: number;
}

/**
 * Registers the store and enqueues its flow, unless the queues already hold this plan's unfinished
 * flow (a coordinator started again after being killed joins it). A finished flow of an incomplete
 * store (blocks failed, or the store was removed) or another plan's jobs are removed first, so
 * running the command again retries what is not staged. Job ids are fixed per job, so no job is
 * queued twice.
 */
export async function enqueueStore(url: string, store: string, plan: StorePlan, o: EnqueueOptions): Promise<RegisteredStore> {
  const ns = storeNamespace(store), names = queueNames(ns);
  const levelJobs = plan.levels.map((_, l) => plan.jobs.filter((j) => j.level === l).length);
  const entry: RegisteredStore = {
    ns, store: resolve(store), input: o.input, plan: planId(plan.manifest),
    levelJobs, voxels: plan.jobs.reduce((n, _, k) => n + jobVoxels(plan, k), 0), queued: new Date().toISOString(),
  };
  const redis = await connectRedis(url);
  const q = new StoreQueues(url, ns);
  try {
    const before = await redis.hget(REGISTRY_KEY, ns);
    const state = await q.finish.getJobState(FINISH_ID);
    const stale = (before !== null && (JSON.parse(before) as RegisteredStore).plan !== entry.plan) || state === "completed" || state === "failed";
    if (stale) await q.obliterate();
    await redis.hset(REGISTRY_KEY, ns, JSON.stringify(entry));
    if (stale || state === "unknown") await addFlow(url, names, store, plan, o);
  } finally {
    await q.close();
    redis.disconnect();
  }
  return entry;
}

async function addFlow(url: string, names: ReturnType<typeof queueNames>, store: string, plan: StorePlan, o: EnqueueOptions): Promise<void> {
  const path = resolve(store);
  const fitOpts = { attempts: o.attempts, backoff: { type: "exponential", delay: o.backoffMs ?? 1000 }, ignoreDependencyOnFailure: true };
  const fit = (k: number): FlowJob => {
    const j = plan.jobs[k]!;
    const data: FitJobData = { store: path, plan: planId(plan.manifest), input: o.input, read: o.read, k, level: j.level, chunk: j.chunk, box: chunkBox(plan.levels[j.level]!, j.chunk, plan.chunk), crc: plan.blockCrcs[k]! };
    return { name: "fit", queueName: names.fit, data, opts: { jobId: fitId(k), ...fitOpts } };
  };
  const shards: FlowJob[] = plan.shards.map((s, i) => ({
    name: "shard", queueName: names.shard, data: { store: path, plan: planId(plan.manifest), shard: i } satisfies ShardJobData,
    opts: { jobId: shardId(i), attempts: o.attempts, ignoreDependencyOnFailure: true }, children: s.jobs.filter((k) => k >= 0).map(fit),
  }));
  const meta: Record<string, string> = {};
  for (const [k, v] of plan.meta) meta[k] = Buffer.from(v).toString("base64");
  const flows = new FlowProducer({ connection: parseRedisUrl(url) });
  try {
    await flows.add({ name: "finish", queueName: names.finish, data: { store: path, plan: planId(plan.manifest), bytes: plan.manifest.settings.bytes as number, meta } satisfies FinishJobData, opts: { jobId: FINISH_ID, attempts: o.attempts }, children: shards });
  } finally {
    await flows.close();
  }
}

/**
 * Follows the store's queues until its finish job has run (polling; `onProgress` gets block jobs
 * done, their total and an estimate of their voxels), then returns the store's status.
 */
export async function watchStore(url: string, entry: RegisteredStore, onProgress: (done: number, total: number, voxels: number) => void, pollMs = 500): Promise<StoreStatus> {
  const q = new StoreQueues(url, entry.ns);
  const total = entry.levelJobs.reduce((a, b) => a + b, 0);
  try {
    for (;;) {
      const c = await q.fit.getJobCounts("completed", "failed");
      const done = (c.completed ?? 0) + (c.failed ?? 0);
      onProgress(done, total, (entry.voxels * done) / Math.max(1, total));
      const state = await q.finish.getJobState(FINISH_ID);
      if (state === "completed" || state === "failed" || state === "unknown") return await storeStatus(entry, q);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    await q.close();
  }
}
