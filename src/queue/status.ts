/** A store's progress as its queues hold it: done/total per level, failed blocks, whether it is complete. */
import type { Redis } from "ioredis";
import type { FailedBlock } from "../store/manifest.js";
import { jobPlace } from "../store/job-table.js";
import { chunkBox } from "../store/plan.js";
import { doneKey, type RegisteredStore } from "./connection.js";
import type { FinishResult, FitJobData } from "./jobs.js";
import { FINISH_ID, type StoreQueues } from "./store-queues.js";

/** Failed jobs Redis keeps per queue (the newest; the count of all is kept apart): the report lists these. */
export const KEEP_FAILED = 1000;

export interface StoreStatus {
  store: string;
  input: string;
  queue: string;
  /** "running" (jobs left), "complete", "incomplete" (every job ran, some blocks failed), "failed" (finishing failed). */
  state: "running" | "complete" | "incomplete" | "failed";
  done: number;
  total: number;
  /** Jobs being fitted now. */
  active: number;
  levels: Array<{ level: number; done: number; total: number }>;
  /** The failed blocks Redis keeps (at most KEEP_FAILED, the newest). */
  failed: FailedBlock[];
  /** Blocks failed after their retries, all of them (`failed` may list fewer). */
  failedCount: number;
  error?: string;
}

/** Job k's done bit is bit k of the plan's bitmap (Redis numbers a string's bits from the first byte's highest). */
function doneBit(bits: Uint8Array, k: number): boolean {
  return ((bits[k >> 3] ?? 0) >> (7 - (k & 7))) & 1 ? true : false;
}

/** Block jobs done of the store's plan. */
export async function doneJobs(redis: Redis, entry: RegisteredStore): Promise<number> {
  return redis.bitcount(doneKey(entry.ns, entry.plan));
}

export async function storeStatus(entry: RegisteredStore, q: StoreQueues, redis: Redis): Promise<StoreStatus> {
  const bits = (await redis.getBuffer(doneKey(entry.ns, entry.plan))) ?? new Uint8Array(0);
  let first = 0, done = 0;
  const levels = entry.levelJobs.map((total, level) => {
    let n = 0;
    for (let k = first; k < first + total; k++) if (doneBit(bits, k)) n++;
    first += total;
    done += n;
    return { level, done: n, total };
  });
  const total = first;
  const failed = (await q.fit.getFailed(0, KEEP_FAILED - 1)).flatMap((j): FailedBlock[] => {
    const p = jobPlace(entry.levels ?? [], (j.data as FitJobData).k); // an entry of an older vmg has no levels: its jobs are not listed
    return p ? [{ ...p, box: chunkBox(entry.levels[p.level]!, p.chunk, entry.chunk), error: j.failedReason, attempts: j.attemptsMade }] : [];
  }).sort((a, b) => a.level - b.level || a.chunk.join().localeCompare(b.chunk.join()));
  const c = await q.fit.getJobCounts("active", "waiting", "delayed", "prioritized", "waiting-children", "failed");
  const pending = (c.active ?? 0) + (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c["waiting-children"] ?? 0);
  const finish = await q.finish.getJob(FINISH_ID);
  const finishState = finish ? await finish.getState() : "unknown";
  let state: StoreStatus["state"] = "running";
  if (finishState === "completed") state = (finish!.returnvalue as FinishResult).complete ? "complete" : "incomplete";
  else if (finishState === "failed") state = "failed";
  const out: StoreStatus = {
    store: entry.store, input: entry.input, queue: entry.ns, state, done, total, active: c.active ?? 0, levels, failed,
    // every job is done, pending or failed: this counts the failed ones Redis no longer keeps
    failedCount: state === "complete" ? 0 : Math.max(c.failed ?? 0, total - done - pending),
  };
  if (state === "failed") out.error = finish!.failedReason;
  return out;
}
