/**
 * Chunk fits on every core: worker threads that each fit one block at a time (fitChunk). A chunk's
 * bytes depend only on its job (fixed seed), so the store is the same whatever the thread count.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { gatedChunk, type ChunkJob } from "../store/block-fit.js";
import { allSettledOrThrow, WorkerCalls } from "./worker-calls.js";
import { workerScript } from "./worker-script.js";

/**
 * Fits jobs 0 … count − 1, each made by `make` when a worker is free for it (so only jobs in flight
 * hold their block); each result goes to `onResult` as it arrives (awaited before that worker
 * takes the next job, so a finished chunk is stored before more work starts). After a failure no
 * worker takes another job; the call rejects with the first failure once the others have stopped.
 */
export async function fitChunksOnWorkers(count: number, make: (i: number) => ChunkJob, onResult: (i: number, bytes: Uint8Array | undefined) => Promise<void>, threads = availableParallelism(), onDone?: (done: number) => void): Promise<void> {
  if (count === 0) return;
  const { url, options } = workerScript("store-fit-worker", {});
  const calls = await WorkerCalls.ready(Array.from({ length: Math.max(1, Math.min(threads, count)) }, () => new Worker(url, options)));
  let next = 0, done = 0, failed = false;
  const run = async (w: Worker): Promise<void> => {
    while (!failed && next < count) {
      const index = next++;
      const job = make(index);
      try {
        // an empty block is decided here, without a round trip to a worker
        const gated = gatedChunk(job);
        if (gated) { await onResult(index, gated.bytes); onDone?.(++done); continue; }
        const reply = await calls.call<{ bytes?: Uint8Array }, { id: number; job: ChunkJob }>(w, { id: calls.id(), job }, undefined, [job.block.data.buffer as ArrayBuffer]);
        await onResult(index, reply.bytes);
      } catch (e) {
        failed = true;
        if (e instanceof Error) e.message = `chunk ${index}: ${e.message}`;
        throw e;
      }
      onDone?.(++done);
    }
  };
  try {
    await allSettledOrThrow(calls.workers.map(run));
  } finally {
    await calls.close();
  }
}
