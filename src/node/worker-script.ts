/**
 * Which file a worker thread starts. Compiled (dist/cli/, built by `npm run build:cli`), the
 * worker's own bundle sits beside the running chunk and starts as plain JavaScript. From the
 * TypeScript sources (tsx: tests, benchmarks, dev), worker threads do not inherit the loader, so
 * they start worker-boot.mjs, which registers tsx and then imports the worker's .ts file.
 */
import type { WorkerOptions } from "node:worker_threads";

const COMPILED = import.meta.url.endsWith(".js");

export function workerScript(name: "decode-worker" | "fit-worker" | "store-fit-worker", workerData: Record<string, unknown>): { url: URL; options: WorkerOptions } {
  if (COMPILED) return { url: new URL(`./${name}.js`, import.meta.url), options: { workerData } };
  return {
    url: new URL("./worker-boot.mjs", import.meta.url),
    options: { workerData: { ...workerData, entry: new URL(`./${name}.ts`, import.meta.url).href } },
  };
}
