/**
 * Block work on every core: worker threads that each take one block task at a time — a chunk's fit
 * (fitChunk) or its planning statistics (planBlock: the allocation's pursuit, its weight, its CRC).
 * A task's result depends only on the task (fixed seed), so the store is the same whatever the
 * thread count. One pool serves a run's planning pass and then its fits, so threads start once.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { gatedChunk, type ChunkJob } from "../store/block-fit.js";
import type { PlanHow } from "../store/block-plan.js";
import { WorkerCalls } from "./worker-calls.js";
import { workerScript } from "./worker-script.js";

/** A job whose task (or the storing of its result) failed. */
export interface JobFailure { index: number; error: Error }

/** What a worker thread is sent: a chunk to fit, or a chunk to plan. */
export type WorkerTask = { kind: "fit"; job: ChunkJob } | { kind: "plan"; job: ChunkJob; how: PlanHow };

/** A task of a run: done on the calling thread already (`local`, e.g. an empty block), or to post to a worker. */
export type PoolTask<R> = { local: R } | { post: WorkerTask };

export class BlockPool {
  private lastDeath: Error | undefined;
  private readonly dead = new Set<Worker>();

  private constructor(private readonly calls: WorkerCalls) {
    for (const w of calls.workers) w.once("exit", (code) => { this.dead.add(w); this.lastDeath ??= new Error(`a worker thread exited with code ${code}`); });
  }

  /** Starts `threads` worker threads (at least one). */
  static async start(threads = availableParallelism()): Promise<BlockPool> {
    const { url, options } = workerScript("store-fit-worker", {});
    return new BlockPool(await WorkerCalls.ready(Array.from({ length: Math.max(1, threads) }, () => new Worker(url, options))));
  }

  get threads(): number {
    return this.calls.workers.length;
  }

  /**
   * Runs tasks 0 … count − 1, each made by `make` when a thread is free for it (so only tasks in
   * flight hold their block; `make` is called in index order), each result handed to `onResult` as
   * it arrives (awaited before that thread takes the next task). A failing task is recorded and
   * the others go on; a thread that died takes no more tasks, and tasks no thread is left to take
   * fail with its error. Resolves with the failures, by index.
   */
  async run<R>(count: number, make: (i: number) => Promise<PoolTask<R>>, onResult: (i: number, r: R) => Promise<void>, onDone?: (done: number, index: number) => void): Promise<JobFailure[]> {
    let next = 0, done = 0;
    const failures: JobFailure[] = [];
    const serve = async (w: Worker): Promise<void> => {
      while (!this.dead.has(w) && next < count) {
        const index = next++;
        try {
          const task = await make(index);
          let result: R;
          if ("local" in task) result = task.local;
          else {
            // the thread may have died while the block was read: a call posted to it now would never be answered
            if (this.dead.has(w)) throw this.lastDeath ?? new Error("the worker thread exited");
            result = (await this.calls.call<{ result: R }, { id: number; task: WorkerTask }>(w, { id: this.calls.id(), task: task.post }, undefined, [task.post.job.block.data.buffer as ArrayBuffer])).result;
          }
          await onResult(index, result);
          onDone?.(++done, index);
        } catch (e) {
          const error = e instanceof Error ? e : new Error(String(e));
          failures.push({ index, error });
          if (this.dead.has(w)) { this.lastDeath = error; break; }
        }
      }
    };
    await Promise.all(this.calls.workers.slice(0, Math.max(1, Math.min(count, this.threads))).map(serve));
    // every thread died before the queue was empty: the tasks left were never tried
    for (; next < count; next++) failures.push({ index: next, error: new Error(`not done: every worker thread exited (last: ${this.lastDeath?.message})`) });
    return failures.sort((a, b) => a.index - b.index);
  }

  /** Fits jobs 0 … count − 1 (an empty block is decided on the calling thread, without a round trip); results as `run`. */
  fitChunks(count: number, make: (i: number) => ChunkJob | Promise<ChunkJob>, onResult: (i: number, bytes: Uint8Array | undefined) => Promise<void>, onDone?: (done: number, index: number) => void): Promise<JobFailure[]> {
    return this.run<{ bytes?: Uint8Array }>(count, async (i) => {
      const job = await make(i);
      const gated = gatedChunk(job);
      return gated ? { local: gated.bytes ? { bytes: gated.bytes } : {} } : { post: { kind: "fit", job } };
    }, (i, r) => onResult(i, r.bytes), onDone);
  }

  close(): Promise<void> {
    return this.calls.close();
  }
}

/** Fits jobs 0 … count − 1 on a pool of its own (BlockPool.fitChunks), closed when they are done. */
export async function fitChunksOnWorkers(count: number, make: (i: number) => ChunkJob | Promise<ChunkJob>, onResult: (i: number, bytes: Uint8Array | undefined) => Promise<void>, threads = availableParallelism(), onDone?: (done: number, index: number) => void): Promise<JobFailure[]> {
  if (count === 0) return [];
  const pool = await BlockPool.start(Math.min(threads, count));
  try {
    return await pool.fitChunks(count, make, onResult, onDone);
  } finally {
    await pool.close();
  }
}
