/**
 * BullMQ's sandboxed processor for block fits (it runs in a worker thread of `vmg worker`, so a
 * fit's CPU time never blocks the main thread, which renews the job locks). Once the chunk is
 * staged it sets the job's bit in the plan's done bitmap, before the job completes: completed jobs
 * are not kept, and a thread that dies in between leaves a job that runs again and sets it again.
 */
import { workerData } from "node:worker_threads";
import type { SandboxedJob } from "bullmq";
import type { Redis } from "ioredis";
import { doneKey } from "./connection.js";
import { runFitJob, type FitJobData, type FitResult, type FitRun } from "./jobs.js";
import { connectRedis } from "./store-queues.js";

/** What `vmg worker` gives the fit threads of a store (queue/worker.ts): its Redis, the store's namespace, and where its run and input are (its registry entry). */
export interface FitThreadData extends FitRun { redis: string; ns: string }

let redis: Promise<Redis> | undefined;

/**
 * The thread's Redis client: bounded, so a job whose Redis is gone fails in seconds (its thread can
 * then stop; the job runs again once Redis is back, finds its chunk staged and sets the bit), and
 * made again by the next job once it has given up.
 */
function connection(url: string): Promise<Redis> {
  if (!redis) {
    const r = connectRedis(url);
    redis = r;
    r.then((c) => c.once("end", () => { if (redis === r) redis = undefined; }), () => { if (redis === r) redis = undefined; });
  }
  return redis;
}

export default async function process(job: SandboxedJob<FitJobData, FitResult>): Promise<FitResult> {
  const t = workerData as FitThreadData, { redis: url, ns } = t;
  const r = await runFitJob(t, job.data);
  await (await connection(url)).setbit(doneKey(ns, job.data.plan), job.data.k, 1);
  return r;
}
