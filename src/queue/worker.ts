/**
 * `vmg worker redis://…`: serves the queues of every store registered in that Redis database.
 * Block fits run in BullMQ's sandbox (worker threads: a fit's CPU time never blocks this thread,
 * which renews the job locks), `threads` at once per store; shard assembly and finishing are file
 * work and run here. A job whose lock lapses (its worker was killed) goes back to the queue after
 * the stall interval and another worker takes it; the jobs are idempotent, so that is harmless.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Worker, type Job } from "bullmq";
import { describeBlock } from "../store/manifest.js";
import { parseRedisUrl, queueNames, type RegisteredStore } from "./connection.js";
import { QueueError } from "./errors.js";
import { runFinishJob, runShardJob, type FinishJobData, type FinishResult, type FitJobData, type ShardJobData } from "./jobs.js";
import { connectRedis, registeredStores } from "./store-queues.js";

export interface WorkerOptions {
  threads: number;
  /** Job lock (ms): renewed at half; a job whose lock lapses is stalled and returns to the queue at the next check, as often. */
  lockMs: number;
  /** Stops the worker (it finishes its jobs in flight first). */
  signal: AbortSignal;
  log: (line: string) => void;
}

/** The sandboxed processor: the compiled bundle beside this chunk (dist/cli/). */
function fitProcessor(): URL {
  if (!import.meta.url.endsWith(".js")) throw new QueueError("vmg worker", "runs from the compiled CLI (bin/vmg.mjs, npm run build:cli): its sandboxed processor is a bundle");
  return new URL("./queue-fit-processor.js", import.meta.url);
}

export async function runWorker(url: string, o: WorkerOptions): Promise<void> {
  const processor = fitProcessor();
  const redis = await connectRedis(url, true);
  const connection = parseRedisUrl(url);
  const served = new Map<string, Worker[]>();
  const common = { connection, lockDuration: o.lockMs, stalledInterval: o.lockMs, maxStalledCount: 3 };
  const serve = (s: RegisteredStore): Worker[] => {
    const names = queueNames(s.ns);
    // workerData must be an object: geotiff's web-worker polyfill, imported by the input readers, reads it in any thread
    const fit = new Worker<FitJobData>(names.fit, processor, { ...common, concurrency: o.threads, useWorkerThreads: true, workerThreadsOptions: { workerData: {} } });
    const shard = new Worker<ShardJobData>(names.shard, (job) => runShardJob(job.data), { ...common, concurrency: 1 });
    const finish = new Worker<FinishJobData, FinishResult>(names.finish, (job) => runFinishJob(job.data), { ...common, concurrency: 1 });
    fit.on("completed", (job: Job<FitJobData>) => o.log(`${s.store}: ${describeBlock(job.data)} done`));
    fit.on("failed", (job: Job<FitJobData> | undefined, e: Error) => {
      if (job) o.log(`${s.store}: ${describeBlock(job.data)} attempt ${job.attemptsMade} of ${job.opts.attempts ?? 1} failed: ${e.message}`);
    });
    fit.on("stalled", (id: string) => o.log(`${s.store}: job ${id} stalled (its worker stopped renewing the lock): back in the queue`));
    finish.on("completed", (_job: Job, r: FinishResult) => o.log(`${s.store}: ${r.complete ? "complete" : "not complete (blocks failed)"}`));
    finish.on("failed", (_job: Job | undefined, e: Error) => o.log(`${s.store}: finishing failed: ${e.message}`));
    for (const w of [fit, shard, finish]) w.on("error", (e: Error) => o.log(`${s.store}: ${e.message}`));
    o.log(`serving ${s.store} (queues ${s.ns}-*)`);
    return [fit, shard, finish];
  };
  try {
    while (!o.signal.aborted) {
      try {
        for (const s of await registeredStores(redis)) if (!served.has(s.ns)) served.set(s.ns, serve(s));
      } catch (e) {
        o.log(`cannot read the store registry (${(e as Error).message}); trying again`);
      }
      await sleep(1000, undefined, { signal: o.signal }).catch(() => {}); // aborted: the loop ends (its listener goes with the timer)
    }
  } finally {
    await Promise.all([...served.values()].flat().map((w) => w.close()));
    redis.disconnect();
  }
}
