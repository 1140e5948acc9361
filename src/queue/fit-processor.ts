/**
 * BullMQ's sandboxed processor for block fits (it runs in a worker thread of `vmg worker`, so a
 * fit's CPU time never blocks the main thread, which renews the job locks). Once the chunk is
 * staged it sets the job's bit in the plan's done bitmap, before the job completes: completed jobs
 * are not kept, and a thread that dies in between leaves a job that runs again and sets it again.
 */
import "../node/wasm-kernel.js"; // the fitter's forward and moments passes on the WebAssembly kernel for this thread
import { workerData } from "node:worker_threads";
import type { SandboxedJob } from "bullmq";
import type { Redis } from "ioredis";
import { setTimeout as sleep } from "node:timers/promises";
import { doneKey, REGISTRY_KEY, type RegisteredStore } from "./connection.js";
import { QueueError } from "./errors.js";
import { runFitJob, type FitJobData, type FitResult, type FitRun } from "./jobs.js";
import { connectRedis } from "./store-queues.js";

/**
 * What `vmg worker` gives the fit threads of a store (queue/worker.ts): its Redis, the store's
 * namespace, and where its run and input are (its registry entry), with that entry's plan.
 */
export interface FitThreadData extends FitRun { redis: string; ns: string; plan: string }

/** How long a job of a newer plan waits for its registry entry (the coordinator adds the jobs first, then the entry). */
const ENTRY_WAIT_MS = 10_000;

/**
 * Where job `plan`'s run and input are: the thread's own entry when the job is of its plan; else
 * (the store queued again, perhaps for another input, before this worker served it anew) the
 * registry's entry once it names that plan, so a job never reads the old entry's input.
 */
async function runOf(t: FitThreadData, plan: string): Promise<FitRun> {
  if (t.plan === plan) return t;
  const c = await connection(t.redis), until = Date.now() + ENTRY_WAIT_MS;
  for (;;) {
    const text = await c.hget(REGISTRY_KEY, t.ns);
    const e = text === null ? undefined : (JSON.parse(text) as RegisteredStore);
    if (e?.plan === plan) return { store: e.store, input: e.input, read: e.read };
    if (Date.now() > until) throw new QueueError(t.store, `no registry entry for this job's plan (${plan}); its worker serves ${t.plan}`);
    await sleep(200);
  }
}

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
  const r = await runFitJob(await runOf(t, job.data.plan), job.data);
  await (await connection(url)).setbit(doneKey(ns, job.data.plan), job.data.k, 1);
  return r;
}
