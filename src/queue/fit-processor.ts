/**
 * BullMQ's sandboxed processor for block fits (it runs in a worker thread of `vmg worker`, so a
 * fit's CPU time never blocks the main thread, which renews the job locks).
 */
import type { SandboxedJob } from "bullmq";
import { runFitJob, type FitJobData, type FitResult } from "./jobs.js";

export default function process(job: SandboxedJob<FitJobData, FitResult>): Promise<FitResult> {
  return runFitJob(job.data);
}
