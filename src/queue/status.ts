/** A store's progress as its queues hold it: done/total per level, failed blocks, whether it is complete. */
import type { FailedBlock } from "../store/manifest.js";
import { levelOfJob, type RegisteredStore } from "./connection.js";
import type { FinishResult, FitJobData } from "./jobs.js";
import { FINISH_ID, type StoreQueues } from "./store-queues.js";

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
  failed: FailedBlock[];
  error?: string;
}

export async function storeStatus(entry: RegisteredStore, q: StoreQueues): Promise<StoreStatus> {
  const levels = entry.levelJobs.map((total, level) => ({ level, done: 0, total }));
  const completed = await q.fit.getRanges(["completed"], 0, -1);
  for (const id of completed) levels[levelOfJob(entry.levelJobs, Number(id.slice(id.indexOf("-") + 1)))]!.done++;
  const failed = (await q.fit.getFailed(0, -1)).map((j): FailedBlock => {
    const d = j.data as FitJobData;
    return { level: d.level, chunk: d.chunk, box: d.box, error: j.failedReason, attempts: j.attemptsMade };
  }).sort((a, b) => a.level - b.level || a.chunk.join().localeCompare(b.chunk.join()));
  const active = (await q.fit.getJobCounts("active")).active ?? 0;
  const finish = await q.finish.getJob(FINISH_ID);
  const finishState = finish ? await finish.getState() : "unknown";
  let state: StoreStatus["state"] = "running";
  if (finishState === "completed") state = (finish!.returnvalue as FinishResult).complete ? "complete" : "incomplete";
  else if (finishState === "failed") state = "failed";
  const out: StoreStatus = {
    store: entry.store, input: entry.input, queue: entry.ns, state, done: completed.length, total: entry.levelJobs.reduce((a, b) => a + b, 0),
    active, levels, failed,
  };
  if (state === "failed") out.error = finish!.failedReason;
  return out;
}
