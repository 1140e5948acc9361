/**
 * Chunk fits on every core: worker threads that each fit one block at a time (fitChunk). A chunk's
 * bytes depend only on its job (fixed seed), so the store is the same whatever the thread count.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { gatedChunk, type ChunkJob } from "../store/block-fit.js";
import { WorkerCalls } from "./worker-calls.js";
import { workerScript } from "./worker-script.js";

/** A job whose fit (or the storing of its result) failed. */
export interface JobFailure { index: number; error: Error }

/**
 * Fits jobs 0 … count − 1, each made by `make` (which may read its block) when a worker is free for it (so only jobs in flight
 * hold their block); each result goes to `onResult` as it arrives (awaited before that worker
 * takes the next job, so a finished chunk is stored before more work starts). A failing job is
 * recorded and the others go on, so one bad block does not cost the rest; a thread that died takes
 * no more jobs, and jobs no thread is left to take fail with its error. Resolves with the failures.
 */
export async function fitChunksOnWorkers(count: number, make: (i: number) => ChunkJob | Promise<ChunkJob>, onResult: (i: number, bytes: Uint8Array | undefined) => Promise<void>, threads = availableParallelism(), onDone?: (done: number, index: number) => void): Promise<JobFailure[]> {
  if (count === 0) return [];
  const { url, options } = workerScript("store-fit-worker", {});
  const calls = await WorkerCalls.ready(Array.from({ length: Math.max(1, Math.min(threads, count)) }, () => new Worker(url, options)));
  let next = 0, done = 0, lastDeath: Error | undefined;
  const failures: JobFailure[] = [];
  const run = async (w: Worker): Promise<void> => {
    let alive = true;
    w.once("exit", (code) => { alive = false; lastDeath ??= new Error(`a worker thread exited with code ${code}`); });
    while (alive && next < count) {
      const index = next++;
      try {
        const job = await make(index);
        // an empty block is decided here, without a round trip to a worker
        const gated = gatedChunk(job);
        if (gated) { await onResult(index, gated.bytes); onDone?.(++done, index); continue; }
        // the thread may have died while the block was read: a call posted to it now would never be answered
        if (!alive) throw lastDeath ?? new Error("the worker thread exited");
        const reply = await calls.call<{ bytes?: Uint8Array }, { id: number; job: ChunkJob }>(w, { id: calls.id(), job }, undefined, [job.block.data.buffer as ArrayBuffer]);
        await onResult(index, reply.bytes);
        onDone?.(++done, index);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        failures.push({ index, error });
        if (!alive) lastDeath = error;
        if (!alive) break;
      }
    }
  };
  try {
    await Promise.all(calls.workers.map(run));
  } finally {
    await calls.close();
  }
  // every thread died before the queue was empty: the jobs left were never tried
  for (; next < count; next++) failures.push({ index: next, error: new Error(`not fitted: every worker thread exited (last: ${lastDeath?.message})`) });
  return failures.sort((a, b) => a.index - b.index);
}
