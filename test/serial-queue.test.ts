/** The queue in front of the GPU decode pass: an aborted chunk is dropped before it costs a dispatch. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SerialQueue } from "../src/core/serial-queue.js";

test("a task aborted while queued never runs and rejects at once; the tasks around it run in order", async () => {
  const q = new SerialQueue();
  const ran: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const first = q.run(async () => { ran.push("first"); await gate; return 1; });
  const stop = new AbortController();
  const dropped = q.run(async () => { ran.push("dropped"); return 2; }, stop.signal);
  const third = q.run(async () => { ran.push("third"); return 3; }, new AbortController().signal);
  stop.abort();
  await assert.rejects(dropped, { name: "AbortError" });
  assert.deepEqual(ran, ["first"], "rejected while the first still runs");
  release();
  assert.equal(await first, 1);
  assert.equal(await third, 3);
  assert.deepEqual(ran, ["first", "third"]);
  await assert.rejects(q.run(async () => { ran.push("late"); }, AbortSignal.abort()), { name: "AbortError" });
  assert.deepEqual(ran, ["first", "third"]);
});

test("a failing task does not block the queue, and a running task finishes despite a late abort", async () => {
  const q = new SerialQueue();
  await assert.rejects(q.run(async () => { throw new Error("boom"); }), /boom/);
  const stop = new AbortController();
  const running = q.run(async () => { stop.abort(); await new Promise((r) => setTimeout(r, 5)); return "finished"; }, stop.signal);
  assert.equal(await running, "finished");
  assert.equal(await q.run(async () => "next"), "next");
});
