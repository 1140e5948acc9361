/**
 * One "Compress this layer" run on the page: starts the worker, keeps what it reports (stage,
 * source facts, the step log, the outcome or an error) and tells listeners. Jobs live per layer
 * outside the tab, so closing the side panel does not stop a fit and reopening shows it.
 */
import type { UserLayer } from "neuroglancer/unstable/layer/index.js";
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import { NullarySignal } from "neuroglancer/unstable/util/signal.js";
import { fromWire } from "../../core/errors.js";
import type { StepLog } from "../../fit/fitter.js";
import { layerBlobUrl } from "../blob-urls.js";
import { plainError } from "./errors.js";
import type { FitJob, FitOutcome, FromWorker, SourceFacts, ToWorker } from "./protocol.js";

export type JobState = "running" | "done" | "error" | "cancelled";

export class CompressJob {
  readonly changed = new NullarySignal();
  state: JobState = "running";
  stage = "starting";
  facts: SourceFacts | undefined;
  readonly log: StepLog[] = [];
  outcome: FitOutcome | undefined;
  error: string | undefined;
  readonly started = performance.now();
  /** Blob URL of the result, made on first use and revoked once no layer shows it (see blob-urls.ts). */
  private blobUrl: string | undefined;
  private worker: Worker | undefined;

  constructor(readonly job: FitJob) {
    const worker = new Worker(new URL("./fit-worker.ts", import.meta.url), { type: "module", name: "volmicro-fit" });
    this.worker = worker;
    worker.addEventListener("message", (e: MessageEvent<FromWorker>) => this.receive(e.data));
    worker.addEventListener("error", (e) => this.fail(`The compression worker stopped: ${e.message || "unknown error"}`));
    worker.postMessage({ type: "start", job } satisfies ToWorker);
  }

  private receive(m: FromWorker): void {
    if (this.state !== "running") return;
    switch (m.type) {
      case "stage": this.stage = m.stage; break;
      case "source": this.facts = m.facts; break;
      case "step": this.log.push(m.step); this.stage = "optimising"; break;
      case "done": this.outcome = m.outcome; this.state = "done"; this.stop(); publish(m.outcome); break;
      case "error": this.fail(plainError(fromWire(m.error), this.job.storeUrl)); return;
    }
    this.changed.dispatch();
  }

  private fail(message: string): void {
    if (this.state !== "running") return;
    this.error = message;
    this.state = "error";
    this.stop();
    this.changed.dispatch();
  }

  /** Stop the worker at once; nothing reaches the viewer. */
  cancel(): void {
    if (this.state !== "running") return;
    this.state = "cancelled";
    this.stop();
    this.changed.dispatch();
  }

  private stop(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }

  /** Seconds left, from the pace of the optimiser steps so far (undefined before two steps). */
  eta(): number | undefined {
    const n = this.log.length;
    if (n < 2) return undefined;
    const first = this.log[0]!, last = this.log[n - 1]!;
    const perStep = (last.seconds - first.seconds) / (last.step - first.step || 1);
    return Math.max(0, (this.job.iterations - 1 - last.step) * perStep);
  }

  resultUrl(viewer: Viewer): string {
    if (!this.outcome) throw new Error("no result yet");
    this.blobUrl ??= layerBlobUrl(viewer, this.outcome.bytes, () => { this.blobUrl = undefined; });
    return this.blobUrl;
  }
}

/** The last finished job's figures on `globalThis.volmicroLastCompress`, for tests and the viewer benchmark. */
function publish(o: FitOutcome): void {
  const { bytes, ...figures } = o;
  (globalThis as { volmicroLastCompress?: unknown }).volmicroLastCompress = { ...figures, fileBytes: bytes.length };
}

const jobs = new WeakMap<object, CompressJob>();

/** The layer's current or last job (keyed by the managed layer, which outlives type changes). */
export function layerJob(layer: UserLayer): CompressJob | undefined {
  return jobs.get(layer.managedLayer);
}

export function setLayerJob(layer: UserLayer, job: CompressJob | undefined): void {
  if (job) jobs.set(layer.managedLayer, job);
  else jobs.delete(layer.managedLayer);
}
