/**
 * `vmg worker redis://…`: serves the queues of every store registered in that Redis database whose
 * flow has not finished. Block fits run in BullMQ's sandbox (worker threads: a fit's CPU time never
 * blocks this thread, which renews the job locks), `threads` at once per store; shard assembly and
 * finishing are file work and run here. A job whose lock lapses (its worker was killed) goes back to
 * the queue after the stall interval and another worker takes it; the jobs are idempotent, so that
 * is harmless. A store whose flow has finished is no longer served (its queue workers and threads
 * are closed), so a worker that runs for months holds only the stores with work left.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Worker, type Job } from "bullmq";
import { describeBlock } from "../store/manifest.js";
import { jobPlace } from "../store/job-table.js";
import { chunkBox } from "../store/plan.js";
import { KEEP_FAILED } from "./status.js";
import { queueNames, redisOptions, type RegisteredStore } from "./connection.js";
import { QueueError } from "./errors.js";
import type { FitThreadData } from "./fit-processor.js";
import { runFinishJob, runShardJob, type FinishJobData, type FinishResult, type FitJobData, type ShardJobData } from "./jobs.js";
import { connectRedis, flowFinished, isConnectionError, registeredStores, SEAL_ID } from "./store-queues.js";

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

/**
 * Says once on the log that Redis went away (every connection of the worker then fails and retries
 * with backoff, each with its own error) and once that it is back.
 */
class RedisWatch {
  private down = false;
  constructor(private readonly url: string, private readonly log: (line: string) => void) {}

  lost(e: Error): void {
    if (this.down) return;
    this.down = true;
    this.log(`lost Redis at ${this.url} (${e.message}); retrying with backoff until it is back (jobs in flight go on; their locks may lapse, and they run again)`);
  }

  back(): void {
    if (!this.down) return;
    this.down = false;
    this.log(`Redis at ${this.url} is back`);
  }

  /**
   * Closes queue workers gracefully (their jobs in flight finish and are recorded), or without
   * waiting for Redis when it is lost (a graceful close would wait for it forever).
   */
  async close(workers: Worker[]): Promise<void> {
    await Promise.all(workers.map((w) => w.close(this.down)));
  }

  /** An error of one of the worker's connections: a lost server is said once, anything else as it comes. */
  error(where: string, e: Error): void {
    if (isConnectionError(e)) this.lost(e);
    else this.log(`${where}: ${e.message}`);
  }
}

/** What a store's fit threads are given (FitThreadData): serving it again when it changes. */
const servedAt = (s: RegisteredStore) => JSON.stringify([s.store, s.input, s.read]);

/** Fit job k of a store in words: "level 0 chunk [1, 0, 2] (voxels z 8:16, …)". */
function fitBlock(s: RegisteredStore, k: number): string {
  const p = jobPlace(s.levels ?? [], k); // an entry of an older vmg has no levels
  return p ? describeBlock({ ...p, box: chunkBox(s.levels[p.level]!, p.chunk, s.chunk) }) : `block job ${k}`;
}

export async function runWorker(url: string, o: WorkerOptions): Promise<void> {
  const processor = fitProcessor();
  const watch = new RedisWatch(url, o.log);
  const redis = await connectRedis(url, "patient", (e) => watch.lost(e)); // unreachable now: one line, after a few seconds
  redis.on("ready", () => watch.back());
  const connection = redisOptions(url, "patient");
  /** Stores served now, with the flow (its `queued` stamp) they are served for. */
  const served = new Map<string, { queued: string; at: string; workers: Worker[] }>();
  /** Stores whose flow this worker saw finished (by `queued` stamp): not served again until queued anew. */
  const settled = new Map<string, string>();
  const common = { connection, lockDuration: o.lockMs, stalledInterval: o.lockMs, maxStalledCount: 3 };
  const serve = (s: RegisteredStore): Worker[] => {
    const names = queueNames(s.ns);
    // workerData must be an object anyway: geotiff's web-worker polyfill, imported by the input readers, reads it in any thread
    const workerData: FitThreadData = { redis: url, ns: s.ns, store: s.store, input: s.input, read: s.read, plan: s.plan };
    // completed fits are removed, failed ones kept for the report: said here, not in each of 10^6 queued jobs
    const fit = new Worker<FitJobData>(names.fit, processor, {
      ...common, concurrency: o.threads, useWorkerThreads: true, workerThreadsOptions: { workerData }, removeOnComplete: { count: 0 }, removeOnFail: { count: KEEP_FAILED },
    });
    const shard = new Worker<ShardJobData>(names.shard, (job) => runShardJob(job.data), { ...common, concurrency: 1 });
    // the seal (a child of the finish job in its queue) only holds the finish back until its flow is wholly added
    const finish = new Worker<FinishJobData, FinishResult | undefined>(names.finish, async (job) => (job.name === SEAL_ID ? undefined : runFinishJob(job.data)), { ...common, concurrency: 1 });
    fit.on("completed", (job: Job<FitJobData>) => o.log(`${s.store}: ${fitBlock(s, job.data.k)} done`));
    fit.on("failed", (job: Job<FitJobData> | undefined, e: Error) => {
      if (job) o.log(`${s.store}: ${fitBlock(s, job.data.k)} attempt ${job.attemptsMade} of ${job.opts.attempts ?? 1} failed: ${e.message}`);
    });
    fit.on("stalled", (id: string) => o.log(`${s.store}: job ${id} stalled (its worker stopped renewing the lock): back in the queue`));
    finish.on("completed", (job: Job, r: FinishResult | undefined) => { if (r) o.log(`${s.store}: ${r.complete ? "complete" : "not complete (blocks failed)"}`); });
    finish.on("failed", (job: Job | undefined, e: Error) => o.log(`${s.store}: ${job?.name === SEAL_ID ? "releasing the finish" : "finishing"} failed: ${e.message}`));
    for (const w of [fit, shard, finish]) w.on("error", (e: Error) => watch.error(s.store, e));
    o.log(`serving ${s.store} (queues ${s.ns}-*)`);
    return [fit, shard, finish];
  };
  const release = async (ns: string, why: string) => {
    const s = served.get(ns)!;
    served.delete(ns);
    o.log(why);
    await watch.close(s.workers);
  };
  const aborted = new Promise<undefined>((resolve) => o.signal.addEventListener("abort", () => resolve(undefined), { once: true }));
  try {
    while (!o.signal.aborted) {
      try {
        const stores = await Promise.race([registeredStores(redis), aborted]); // a lost Redis holds the read, not a stop
        if (!stores) break;
        const registered = new Set(stores.map((s) => s.ns));
        for (const ns of [...served.keys()]) if (!registered.has(ns)) await release(ns, `${ns}: no longer registered; not served`);
        for (const ns of [...settled.keys()]) if (!registered.has(ns)) settled.delete(ns);
        for (const s of stores) {
          const now = served.get(s.ns);
          if (!now && settled.get(s.ns) === s.queued) continue;
          if (await flowFinished(redis, s.ns)) {
            settled.set(s.ns, s.queued);
            if (now) await release(s.ns, `${s.store}: its flow has finished; not served until it is queued again`);
          } else if (now && now.at === servedAt(s)) now.queued = s.queued;
          else {
            // queued anew for another input or read options: the fit threads were given the old ones
            if (now) await release(s.ns, `${s.store}: queued again for ${s.input}; serving it anew`);
            served.set(s.ns, { queued: s.queued, at: servedAt(s), workers: serve(s) });
          }
        }
      } catch (e) {
        if (isConnectionError(e as Error)) watch.lost(e as Error);
        else o.log(`cannot read the store registry (${(e as Error).message}); trying again`);
      }
      await sleep(1000, undefined, { signal: o.signal }).catch(() => {}); // aborted: the loop ends (its listener goes with the timer)
    }
  } finally {
    await watch.close([...served.values()].flatMap((s) => s.workers));
    redis.disconnect();
  }
}
