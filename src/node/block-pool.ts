/**
 * Chunk fits on every core: worker threads that each fit one block at a time (fitChunk). A chunk's
 * bytes depend only on its job (fixed seed), so the store is the same whatever the thread count.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { fromWire, type WireError } from "../core/errors.js";
import type { ChunkJob } from "../store/block-fit.js";
import { workerScript } from "./worker-script.js";

type Reply = { ready: true } | { id: number; bytes?: Uint8Array; error?: WireError };

/**
 * Fits jobs 0 … count − 1, each made by `make` when a worker is free for it (so only jobs in flight
 * hold their block); each result goes to `onResult` as it arrives (awaited before that worker
 * takes the next job, so a finished chunk is stored before more work starts).
 */
export async function fitChunksOnWorkers(count: number, make: (i: number) => ChunkJob, onResult: (i: number, bytes: Uint8Array | undefined) => Promise<void>, threads = availableParallelism(), onDone?: (done: number) => void): Promise<void> {
  if (count === 0) return;
  const { url, options } = workerScript("store-fit-worker", {});
  const workers = Array.from({ length: Math.max(1, Math.min(threads, count)) }, () => new Worker(url, options));
  let next = 0, done = 0;
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      const send = () => {
        if (next >= count) { resolve(); return; }
        const id = next++;
        const job = make(id);
        w.postMessage({ id, job }, [job.block.data.buffer as ArrayBuffer]);
      };
      w.on("message", (m: Reply) => {
        if ("ready" in m) { send(); return; }
        if (m.error !== undefined) {
          const e = fromWire(m.error);
          e.message = `chunk ${m.id}: ${e.message}`;
          reject(e);
          return;
        }
        onResult(m.id, m.bytes).then(() => { onDone?.(++done); send(); }, reject);
      });
      w.once("error", reject);
      // A worker that dies without an error event (killed, process.exit) would leave its job unanswered.
      w.once("exit", (code) => reject(new Error(`a store fit worker exited (code ${code}) before finishing its chunks`)));
    })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
