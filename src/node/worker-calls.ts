/**
 * Calls to worker threads that may overlap: every call gets an id, the worker tags each reply with
 * it, and one listener per worker routes replies to their call, so a call never sees another's
 * "done". An "error" reply carries a WireError and rejects its call with the rebuilt class; a
 * worker that crashes or exits rejects every call it still owed.
 */
import type { Worker } from "node:worker_threads";
import { fromWire, type WireError } from "../core/errors.js";

export type Reply =
  | { type: "ready"; id: -1 }
  | { type: "done"; id: number }
  | { type: "error"; id: number; error: WireError }
  | { type: string; id: number };

interface Pending {
  resolve: (m: Reply) => void;
  reject: (e: unknown) => void;
  onEvent: ((m: Reply) => void) | undefined;
}

export class WorkerCalls {
  private nextId = 0;
  private readonly pending = new Map<Worker, Map<number, Pending>>();

  private constructor(readonly workers: Worker[]) {
    for (const w of workers) {
      const calls = new Map<number, Pending>();
      this.pending.set(w, calls);
      w.on("message", (m: Reply) => {
        const call = calls.get(m.id);
        if (!call) return;
        if (m.type === "done" || m.type === "error") calls.delete(m.id);
        if (m.type === "done") call.resolve(m);
        else if (m.type === "error") call.reject(fromWire((m as { error: WireError }).error));
        else call.onEvent?.(m);
      });
      const failAll = (e: unknown) => {
        for (const call of calls.values()) call.reject(e);
        calls.clear();
      };
      w.on("error", failAll);
      w.on("exit", (code) => failAll(new Error(`worker thread exited (code ${code}) during a call`)));
    }
  }

  /**
   * Wait for each worker's "ready", then route their replies. A worker that fails to start (or
   * exits first) terminates them all, so a failed pool leaves no thread keeping the process alive.
   */
  static async ready(workers: Worker[]): Promise<WorkerCalls> {
    try {
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        const onExit = (code: number) => reject(new Error(`worker thread exited (code ${code}) before it was ready`));
        const onMessage = (m: Reply) => {
          if (m.type !== "ready") return;
          w.off("message", onMessage);
          w.off("error", reject);
          w.off("exit", onExit);
          resolve();
        };
        w.on("message", onMessage);
        w.once("error", reject);
        w.once("exit", onExit);
      })));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new WorkerCalls(workers);
  }

  /** A fresh call id, to put in the messages of one call (to one or several workers). */
  id(): number {
    return this.nextId++;
  }

  /** Post `message` (carrying `id`) to `w`; resolves with the call's "done" reply. `onEvent` sees its other replies. */
  call<R = Reply, M extends { id: number } = { id: number }>(w: Worker, message: M, onEvent?: (m: Reply) => void, transfer: ArrayBuffer[] = []): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.get(w)!.set(message.id, { resolve: (m) => resolve(m as R), reject, onEvent });
      w.postMessage(message, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Wait for every promise, then reject with the first failure (no worker is still busy afterwards). */
export async function allSettledOrThrow<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
