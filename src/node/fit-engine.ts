/**
 * The fitter's objective on every core: worker threads share the target (SharedArrayBuffer) and
 * claim slabs from a shared counter each step; the main thread sums their moments. Calls may
 * overlap: each has its own id (replies are routed by it) and its own slab counter.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Box } from "../core/background.js";
import { combineLanes, LANES, SLAB_VOXELS, slabs, type EvalRequest, type EvalResult, type FitEngine, type LaneResult } from "../fit/engine.js";
import { installedFitKernel, type FitKernelPath, type FitTarget } from "../fit/objective.js";
import { workerScript } from "./worker-script.js";
import { allSettledOrThrow, WorkerCalls, type Reply } from "./worker-calls.js";

export interface WorkerInit {
  data: SharedArrayBuffer;
  edges?: SharedArrayBuffer;
  shape: [number, number, number];
  edgeBoost: number;
  slabs: Box[];
  /** The path the creating thread's LocalEngine would take, so that both engines fit the same bytes. */
  path: FitKernelPath;
}

export interface WorkerCall {
  id: number;
  type: "evaluate" | "predict";
  req: Omit<EvalRequest, "gradients">;
  /** evaluate: the lanes this worker sums; predict: a shared slab counter. */
  lanes?: number[];
  control?: SharedArrayBuffer;
  subset?: Int32Array;
  output?: SharedArrayBuffer;
}

export type FitReply = Reply | { type: "done"; id: number; results?: LaneResult[] };

function share<T extends Float32Array | Uint8Array>(a: T): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(a.byteLength);
  new Uint8Array(sab).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return sab;
}

export class WorkerEngine implements FitEngine {
  private constructor(private readonly calls: WorkerCalls, private readonly voxels: number, readonly slabs: Box[]) {}

  /** `path`: by default this thread's, settled here; a worker without that path's kernel fails the call rather than take another. */
  static async create(target: FitTarget, threads = availableParallelism(), path: FitKernelPath = installedFitKernel()): Promise<WorkerEngine> {
    const init: WorkerInit = {
      path,
      data: share(target.data),
      shape: [...target.shape] as [number, number, number],
      edgeBoost: target.edgeBoost,
      slabs: slabs(target.shape, SLAB_VOXELS),
      ...(target.edges ? { edges: share(target.edges) } : {}),
    };
    const { url, options } = workerScript("fit-worker", { ...init });
    // more workers than lanes would idle
    const workers = Array.from({ length: Math.max(1, Math.min(LANES, threads)) }, () => new Worker(url, options));
    return new WorkerEngine(await WorkerCalls.ready(workers), target.data.length, init.slabs);
  }

  async evaluate(req: EvalRequest): Promise<EvalResult> {
    const { gradients: _, subset, ...rest } = req;
    const { workers } = this.calls;
    const id = this.calls.id();
    const replies = await allSettledOrThrow(workers.map((w, k) => {
      const lanes = Array.from({ length: LANES }, (_, l) => l).filter((l) => l % workers.length === k);
      return this.calls.call<{ results: LaneResult[] }, WorkerCall>(w, { id, type: "evaluate", req: rest, lanes, ...(subset ? { subset } : {}) } satisfies WorkerCall);
    }));
    return combineLanes(replies.flatMap((r) => r.results));
  }

  async predict(req: Omit<EvalRequest, "gradients">): Promise<Float32Array> {
    const control = new SharedArrayBuffer(4);
    const output = new SharedArrayBuffer(this.voxels * 4);
    const id = this.calls.id();
    await allSettledOrThrow(this.calls.workers.map((w) => this.calls.call(w, { id, type: "predict", req, control, output } satisfies WorkerCall)));
    return new Float32Array(output);
  }

  async close(): Promise<void> {
    await this.calls.close();
  }
}
