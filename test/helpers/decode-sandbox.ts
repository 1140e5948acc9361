/**
 * Reads and decodes untrusted files on a worker thread under a per-file time limit: a file that
 * takes longer terminates the worker and fails with the caller's label (seed, mutation), instead
 * of hanging the test run.
 */
import { Worker } from "node:worker_threads";

export interface SandboxRequest {
  bytes: Uint8Array;
  /** Edge of the decoded boxes, in voxels of each scale. */
  edge: number;
  /** The coarse scale decoded besides scale 0. */
  coarseLevel: number;
}

export type SandboxResult = {
  ms?: number;
  /** An untyped exception (a bug): its stack. */
  untyped?: string;
} & (
  | { accepted: false; error?: string; message?: string; fields?: Record<string, unknown> }
  | { accepted: true; count?: number; voxels?: number; nonFinite?: number }
);

export class DecodeSandbox {
  private worker: Worker | undefined;
  private next = 0;

  constructor(private readonly limitMs: number) {}

  private async start(): Promise<Worker> {
    const boot = new URL("../../src/node/worker-boot.mjs", import.meta.url);
    const entry = new URL("./decode-sandbox-worker.ts", import.meta.url).href;
    const w = new Worker(boot, { workerData: { entry } });
    await new Promise<void>((resolve, reject) => {
      w.once("message", () => resolve());
      w.once("error", reject);
    });
    return w;
  }

  /** Read (and, if accepted, decode) `bytes`; rejects naming `label` if it takes over the limit. */
  async run(bytes: Uint8Array, label: string, edge = 48, coarseLevel = 2): Promise<SandboxResult> {
    const w = (this.worker ??= await this.start());
    const id = this.next++;
    return new Promise<SandboxResult>((resolve, reject) => {
      const done = () => { clearTimeout(timer); w.off("message", onMessage); w.off("error", onError); };
      const fail = (why: string) => {
        done();
        this.worker = undefined;
        void w.terminate();
        reject(new Error(`${label}: ${why}`));
      };
      const timer = setTimeout(() => fail(`no answer within ${this.limitMs} ms (worker terminated)`), this.limitMs);
      const onError = (e: Error) => fail(`the worker died: ${e.stack ?? String(e)}`);
      const onMessage = (m: { id: number; result: SandboxResult }) => {
        if (m.id !== id) return;
        done();
        resolve(m.result);
      };
      w.on("message", onMessage);
      w.once("error", onError);
      w.postMessage({ id, bytes, edge, coarseLevel } satisfies SandboxRequest & { id: number });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
