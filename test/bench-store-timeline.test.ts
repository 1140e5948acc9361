/**
 * bench:store-profile's "where the time goes" (bench/store-timeline.ts criticalPath): a run's
 * consecutive segments, read off its requests, decodes and ready frame, sum to the ready frame.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { criticalPath, type Request, type Timeline } from "../bench/store-timeline.js";

const req = (url: string, start: number, end: number, method = "GET"): Request => ({ url, method, start, response: end - 1, end, bytes: 100, thread: "t" });

test("a store run: metadata, set-up, shard size and index, chunks, decode tail, drawing", () => {
  const t: Timeline = {
    ready: 500,
    requests: [
      req(".zarray", 5, 260), req("zarr.json", 5, 50), req("0/zarr.json", 55, 100),
      req("0/c/0/0/0", 130, 180, "HEAD"), req("0/c/0/0/0", 182, 230), req("0/c/0/0/0", 235, 300), req("0/c/0/0/0", 236, 320),
    ],
    poolWorkers: [],
    decodes: [{ start: 300, end: 310 }, { start: 320, end: 400 }],
  };
  const segments = criticalPath(t);
  // the v2 probe (.zarray, still open at 260) runs beside the chain and is not part of it
  assert.deepEqual(segments.map((s) => s.ms), [100, 30, 100, 90, 80, 100]);
  assert.equal(segments.reduce((a, s) => a + s.ms, 0), t.ready);
});

test("a gzip run has no shard segment, and a decode tail only past the last chunk", () => {
  const t: Timeline = {
    ready: 3000,
    requests: [req("zarr.json", 5, 40), req("0/zarr.json", 45, 90), req("0/c/0/0/0", 100, 2000), req("0/c/0/0/1", 101, 2900)],
    poolWorkers: [],
    decodes: [{ start: 2000, end: 2010 }, { start: 2900, end: 2950 }],
  };
  assert.deepEqual(criticalPath(t).map((s) => s.ms), [90, 10, 0, 2800, 50, 50]);
});
