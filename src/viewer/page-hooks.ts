/**
 * `window.volmicro`: what the page knows about its `.vmg` and Gaussian store layers, for the
 * viewer benchmark and curious users in the console: the viewer, per-file (per store level)
 * decode statistics from the worker, failed store chunks, and the WebGPU adapter. Development builds add the test hooks (test-hooks.ts); production builds never
 * contain them (`VOLMICRO_TEST_HOOKS`, webpack.config.js).
 */
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import { getGpu } from "../gpu/device.js";
import { decodeStats } from "./stats.js";
import { storeChunkFailures } from "./store-failures.js";

export function installPageHooks(viewer: Viewer, extra: Record<string, unknown> = {}): void {
  Object.assign(globalThis, {
    volmicro: {
      viewer,
      decodeStats: () => Object.fromEntries(decodeStats),
      storeChunkFailures: () => Object.fromEntries(storeChunkFailures),
      webgpuAdapter: async () => (await getGpu())?.adapter ?? null,
      ...extra,
    },
  });
}
