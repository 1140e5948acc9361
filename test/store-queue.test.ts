/**
 * The queue engine on a real Redis (started here on a free port, stopped at the end): `vmg compress
 * --queue` plans and enqueues, `vmg worker` processes run the jobs, `vmg status` reports. Asserted
 * against the store of one local run, byte for byte (the run manifest aside): two workers; a worker
 * and the coordinator killed with SIGKILL mid-run, then the command run again with --resume; and a
 * store whose input changed under one of its blocks, which fails after its retries and is
 * reported while the rest completes; a flow added in parts, one of them cut short; a Redis on a
 * closed port and one that goes away mid-run; and a replaced store's stale fit, shard and finish jobs.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Redis } from "ioredis";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { writeVolume } from "../src/node/atomic-write.js";
import { buildScratch, openStoreRun, planStore } from "../src/node/store-writer.js";
import { openVolumeSource } from "../src/node/open-volume.js";
import { FlowProducer, Worker } from "bullmq";
import { parseRedisUrl, queueNames, REGISTRY_KEY } from "../src/queue/connection.js";
import { enqueueStore, watchStore } from "../src/queue/coordinator.js";
import { FINISH_ID, SEAL_ID, shardId, StoreQueues } from "../src/queue/store-queues.js";
import { memorySource } from "../src/io/region.js";
import { runFinishJob, runFitJob, runShardJob, type FinishJobData } from "../src/queue/jobs.js";
import { STAGING_NAME } from "../src/store/manifest.js";
import { shardCount } from "../src/store/job-table.js";
import { DEFAULT_HALO } from "../src/store/plan.js";
import type { Volume } from "../src/core/volume.js";
import type { StoreStatus } from "../src/queue/status.js";
import { vmg } from "./helpers/cli.js";
import { startRedis, type TestRedis } from "./helpers/redis.js";
import { assertSameStore } from "./helpers/stores.js";
import { knownGaussians } from "./helpers/volumes.js";

const BIN = fileURLToPath(new URL("../bin/vmg.mjs", import.meta.url));
/** 24×28×32 voxels in 8³ chunks and 16³ shards: 57 block jobs over 3 levels. */
const ARGS = ["--chunk", "8", "--shard", "16", "--bpp", "4", "--iterations", "25"];
const JOBS = 57;

interface Proc { child: ChildProcess; exited: Promise<number | null>; stderr: () => string }

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => { err += d.toString(); });
  child.stdout!.resume();
  return { child, exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))), stderr: () => err };
}

/** A `vmg worker` process: `threads` fits at once, a 1 s lock (so a dead worker's job returns within seconds). */
const worker = (url: string, threads = 1) => start(["worker", url, "--threads", String(threads), "--lock-seconds", "1"]);

async function stop(p: Proc, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  await p.exited;
}

/** `vmg status --json`'s entry for the store, undefined until it is queued. */
async function queued(url: string, store: string): Promise<StoreStatus | undefined> {
  const r = await vmg(["status", url, "--store", store, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout).stores as StoreStatus[])[0];
}

async function status(url: string, store: string): Promise<StoreStatus> {
  const s = await queued(url, store);
  assert.ok(s, `${store} is queued`);
  return s;
}

async function until(what: string, check: () => Promise<boolean>, seconds = 60): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Staged chunks: the files at <plan>/<level>/<chunk> of the staging area (not its temporary files or level scratch). */
const stagedCount = async (store: string) => (await readdir(join(store, STAGING_NAME), { recursive: true, withFileTypes: true }).catch(() => []))
  .filter((e) => e.isFile() && /^[0-9a-f]{16}\/\d+$/.test(relative(join(store, STAGING_NAME), e.parentPath))).length;

describe("the queue engine (BullMQ on a real Redis)", { timeout: 300_000 }, () => {
  let redis: TestRedis | undefined, dir = "", input = "", local = "", volume: Volume;
  before(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), "vmg-queue-"));
    input = join(dir, "in.zarr");
    volume = knownGaussians([24, 28, 32], 25, 7).volume;
    await writeVolume(input, volume);
    local = join(dir, "local.ome.zarr");
    const r = await vmg(["compress", input, "-o", local, ...ARGS, "--threads", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const skip = () => {
    if (redis) return false;
    console.log("# skipped: redis-server is not installed (apt-get install redis-server; .ci/run installs it)");
    return true;
  };

  test("two vmg worker processes write the store of a single local run", async (t) => {
    if (skip()) return t.skip("no redis-server");
    const url = redis!.url, out = join(dir, "two.ome.zarr");
    const workers = [worker(url), worker(url)];
    const r = await vmg(["compress", input, "-o", out, ...ARGS, "--queue", url]);
    // a finished store is served no more: its queue workers are closed
    await until("the workers to stop serving the finished store", async () => workers.every((w) => /two\.ome\.zarr: its flow has finished; not served/.test(w.stderr())), 10);
    await Promise.all(workers.map((w) => stop(w)));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /57\/57 blocks, [\d.]+ MVox\/s/);
    assert.match(r.stdout, /wrote .*two\.ome\.zarr: 3 levels/);
    await assertSameStore(out, local);
    // both workers fitted blocks
    for (const w of workers) assert.match(w.stderr(), /level \d chunk \[[\d, ]+\] \(voxels [^)]*\) done/);
    const s = await status(url, out);
    assert.deepEqual([s.state, s.done, s.total, s.failed.length, s.failedCount], ["complete", JOBS, JOBS, 0, 0]);
    assert.deepEqual(s.levels.map((l) => l.done), s.levels.map((l) => l.total));
    // Redis keeps no job of the finished fits and shards (their count is the done bitmap), only the finish job
    const client = new Redis(redis!.url);
    try {
      const jobKeys = await client.keys(`bull:${s.queue}-*:*-[0-9]*`);
      assert.deepEqual(jobKeys.filter((k) => /:(fit|shard)-\d+$/.test(k)), []);
      assert.ok(await client.exists(`bull:${s.queue}-finish:finish`));
    } finally {
      client.disconnect();
    }
  });

  test("a worker and the coordinator killed with SIGKILL mid-run lose no block: the stalled job returns, and --resume finishes the same store", async (t) => {
    if (skip()) return t.skip("no redis-server");
    const url = redis!.url, out = join(dir, "killed.ome.zarr");
    const coordinator = start(["compress", input, "-o", out, ...ARGS, "--queue", url]);
    const first = worker(url);
    // mid-run and mid-block: some chunks staged, one job held by the only worker
    await until("a few staged blocks", async () => (await stagedCount(out)) >= 5 && (await queued(url, out))?.active === 1);
    first.child.kill("SIGKILL");
    coordinator.child.kill("SIGKILL");
    await Promise.all([first.exited, coordinator.exited]);
    assert.equal(first.child.signalCode, "SIGKILL");
    assert.ok(!existsSync(join(out, "zarr.json")), "killed before the store was complete");
    const second = worker(url, 2);
    const again = await vmg(["compress", input, "-o", out, ...ARGS, "--queue", url, "--resume"]);
    await stop(second);
    assert.equal(again.code, 0, again.stderr);
    // the job the killed worker held went back to the queue once its lock lapsed, and was fitted again
    assert.match(second.stderr(), /job fit-\d+ stalled .*: back in the queue/);
    await assertSameStore(out, local);
    const s = await status(url, out);
    assert.deepEqual([s.state, s.done, s.failed.length], ["complete", JOBS, 0]);
  });

  test("blocks whose input changed after planning fail after their retries and are reported; the others complete", async (t) => {
    if (skip()) return t.skip("no redis-server");
    const url = redis!.url, out = join(dir, "changed.ome.zarr"), moving = join(dir, "moving.zarr");
    await writeVolume(moving, volume);
    const coordinator = start(["compress", moving, "-o", out, ...ARGS, "--queue", url, "--attempts", "2"]);
    await until("the jobs queued", async () => (await queued(url, out))?.total === JOBS);
    // one voxel of level 0's chunk [0, 0, 0] changes after planning: that block differs from the plan (the coarser
    // levels were made into the run's scratch from the input as planned, so their blocks still match)
    const data = volume.data.slice();
    const at = (2 * 28 + 2) * 32 + 2;
    data[at] = data[at]! + 20000;
    await writeVolume(join(dir, "changed.zarr"), { ...volume, data });
    await rm(moving, { recursive: true });
    await rename(join(dir, "changed.zarr"), moving);
    const w = worker(url, 2);
    const code = await coordinator.exited;
    await stop(w);
    assert.equal(code, 1, coordinator.stderr());
    assert.match(coordinator.stderr(), /vmg: .*changed\.ome\.zarr: 1 of 57 blocks failed \(listed above\); the store is not complete/);
    assert.match(coordinator.stderr(), /level 0 chunk \[0, 0, 0\] \(voxels z 0:8, y 0:8, x 0:8\) failed after 2 attempts: .*moving\.zarr: .*its voxels are not those planned/);
    const s = await status(url, out);
    assert.equal(s.state, "incomplete");
    assert.equal(s.failedCount, 1);
    assert.deepEqual(s.failed.map((f) => [f.level, f.chunk, f.attempts]), [[0, [0, 0, 0], 2]]);
    assert.deepEqual(s.failed[0]!.box, { z0: 0, z1: 8, y0: 0, y1: 8, x0: 0, x1: 8 });
    assert.match(s.failed[0]!.error, /input is corrupt or changed since vmg compress --queue planned the store/);
    // the rest completed: every other block is staged, and no store is published
    assert.equal(s.done, JOBS - 1);
    assert.equal(await stagedCount(out), JOBS - 1);
    assert.ok(!existsSync(join(out, "zarr.json")));
    const text = await vmg(["status", url, "--store", out]);
    assert.match(text.stdout, /changed\.ome\.zarr: incomplete, 56\/57 blocks done, 0 being fitted, 1 failed/);
    assert.match(text.stdout, /level 0 chunk \[0, 0, 0\] \(voxels z 0:8, y 0:8, x 0:8\) failed after 2 attempts/);
  });

  /** The store vmg compress … ARGS plans, through the coordinator's steps: planned, its run opened. */
  async function plannedRun(out: string) {
    const plan = await planStore(out, await openVolumeSource(input), {
      chunk: 8, shard: 16, bytes: Math.floor((4 * 24 * 28 * 32) / 8), halo: DEFAULT_HALO, iterations: 25, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, name: "in",
    });
    await openStoreRun(out, plan, "fresh");
    return plan;
  }

  test("a flow added to Redis in parts (as a large run's is) waits for all of them, replaces one cut short, and writes the same store", async (t) => {
    if (skip()) return t.skip("no redis-server");
    const url = redis!.url, out = join(dir, "parts.ome.zarr");
    const plan = await plannedRun(out);
    await buildScratch(plan);
    const o = { input, read: {}, attempts: 2, fitsPerAdd: 8 };
    const entry = await enqueueStore(url, out, plan, o);
    const q = new StoreQueues(url, entry.ns), names = queueNames(entry.ns);
    const flows = new FlowProducer({ connection: parseRedisUrl(url) });
    try {
      const sealOf = async () => ((await q.finish.getJob(FINISH_ID))!.data as FinishJobData).seal;
      // no worker yet: every part is in, the seal released, the finish waits for every shard
      const whole = async () => {
        assert.equal((await q.fit.getJobCounts("waiting")).waiting, JOBS);
        assert.equal(await q.finish.getJobState(FINISH_ID), "waiting-children");
        assert.equal(await q.finish.getJobState(await sealOf()), "waiting");
        assert.equal((await (await q.finish.getJob(FINISH_ID))!.getDependenciesCount()).unprocessed, shardCount(plan.levels) + 1);
      };
      await whole();
      // as a coordinator killed while adding leaves it: the last part missing, the seal still delayed
      await (await q.shard.getJob(shardId(shardCount(plan.levels) - 1)))!.remove();
      const seal = await sealOf();
      await (await q.finish.getJob(seal))!.remove();
      await flows.add({ name: SEAL_ID, queueName: names.finish, data: {}, opts: { jobId: seal, delay: 3_600_000, parent: { id: FINISH_ID, queue: `bull:${names.finish}` } } });
      assert.ok((await q.fit.getJobCounts("waiting")).waiting! < JOBS);
      await enqueueStore(url, out, plan, o);
      await whole();
      // the new flow's seal is its coordinator's own: the first coordinator, should it go on, releases only its (gone) seal
      assert.notEqual(await sealOf(), seal);
      assert.equal(await q.finish.getJobState(seal), "unknown");
    } finally {
      await flows.close();
      await q.close();
    }
    const w = worker(url, 2);
    const s = await watchStore(url, entry, () => {});
    await stop(w);
    assert.deepEqual([s.state, s.done, s.failedCount], ["complete", JOBS, 0]);
    await assertSameStore(out, local);
  });

  test("a finish job held back by a failed child is said by the coordinator, not waited for, and running again queues the flow anew", async (t) => {
    if (skip()) return t.skip("no redis-server");
    const url = redis!.url, out = join(dir, "orphaned.ome.zarr");
    const plan = await plannedRun(out);
    const o = { input, read: {}, attempts: 2 };
    const entry = await enqueueStore(url, out, plan, o);
    const q = new StoreQueues(url, entry.ns), names = queueNames(entry.ns);
    const flows = new FlowProducer({ connection: parseRedisUrl(url) });
    let failing: Worker<unknown, void> | undefined;
    try {
      // a seal as coordinators before ignoreDependencyOnFailure added it, failed; the shards gone: the finish can never run
      const finish = (await q.finish.getJob(FINISH_ID))!;
      await (await q.finish.getJob((finish.data as FinishJobData).seal))!.remove();
      failing = new Worker<unknown, void>(names.finish, async () => { throw new Error("stalled too often"); }, { connection: parseRedisUrl(url) });
      await flows.add({ name: SEAL_ID, queueName: names.finish, data: {}, opts: { jobId: "old-seal", parent: { id: FINISH_ID, queue: `bull:${names.finish}` } } });
      await until("the old seal failed", async () => (await q.finish.getJobState("old-seal")) === "failed");
      await failing!.close();
      failing = undefined;
      for (let i = 0; i < shardCount(plan.levels); i++) await (await q.shard.getJob(shardId(i)))!.remove();
      assert.equal(await q.finish.getJobState(FINISH_ID), "waiting-children");
      await assert.rejects(watchStore(url, entry, () => {}, 20), /finish job waits for no job, so it can never run/);
      await enqueueStore(url, out, plan, o);
      assert.equal((await (await q.finish.getJob(FINISH_ID))!.getDependenciesCount({ unprocessed: true })).unprocessed, shardCount(plan.levels) + 1);
    } finally {
      await failing?.close();
      failing = undefined;
      await flows.close();
      await q.obliterate();
      await q.close();
      const r = new Redis(parseRedisUrl(url));
      await r.hdel(REGISTRY_KEY, entry.ns); // not one of the stores the status test lists
      r.disconnect();
    }
  });

  test("--detach exits once the jobs are queued; vmg status lists them with the other stores of that Redis", async (t) => {
    if (skip()) return t.skip("no redis-server");
    const url = redis!.url, out = join(dir, "detached.ome.zarr");
    const r = await vmg(["compress", input, "-o", out, ...ARGS, "--queue", url, "--detach", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const line = JSON.parse(r.stdout);
    assert.equal(line.jobs, JOBS);
    assert.match(line.queue, /^vmg-[0-9a-f]{12}$/);
    const s = await status(url, out);
    assert.deepEqual([s.state, s.done, s.total, s.active], ["running", 0, JOBS, 0]);
    const all = JSON.parse((await vmg(["status", url, "--json"])).stdout).stores as StoreStatus[];
    assert.deepEqual(all.map((x) => x.store.slice(dir.length)).sort(), ["/changed.ome.zarr", "/detached.ome.zarr", "/killed.ome.zarr", "/parts.ome.zarr", "/two.ome.zarr"]);
    assert.equal(new Set(all.map((x) => x.queue)).size, 5, "one queue namespace per store");
  });

  test("usage: a bad Redis URL, --queue with --blocks, a Redis that is not there, worker and status help", async () => {
    const bad = await vmg(["compress", input, "-o", join(dir, "x.ome.zarr"), ...ARGS, "--queue", "http://127.0.0.1:1/0"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^vmg: http:\/\/127\.0\.0\.1:1\/0: is a http: URL; give redis:\/\/host:port\/db/);
    const both = await vmg(["compress", input, "-o", join(dir, "x.ome.zarr"), ...ARGS, "--queue", "redis://127.0.0.1:1/0", "--blocks", "0/2"]);
    assert.equal(both.code, 2);
    // a closed port: each command gives up after a few seconds of retries, in one line naming the URL
    const closed = "redis://127.0.0.1:1/0";
    const runs = await Promise.all([
      vmg(["status", closed]), vmg(["worker", closed, "--threads", "1"]), vmg(["compress", input, "-o", join(dir, "x.ome.zarr"), ...ARGS, "--queue", closed]),
    ]);
    for (const r of runs) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^vmg: redis:\/\/127\.0\.0\.1:1\/0: cannot reach Redis \(.*ECONNREFUSED.*\)/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.ok(!existsSync(join(dir, "x.ome.zarr")), "the coordinator checks Redis before it plans or writes anything");
    for (const [cmd, re] of [["worker", /--lock-seconds S/], ["status", /--json prints one line/]] as const) {
      const help = await vmg([cmd, "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, re);
      assert.equal((await vmg([cmd])).code, 2, `${cmd} without a Redis URL is a usage error`);
    }
  });
});

describe("Redis going away mid-run", { timeout: 120_000 }, () => {
  test("the coordinator stops with one line naming the URL; a worker says so, retries, says when it is back, and stops when told to meanwhile", async (t) => {
    const server = await startRedis();
    if (!server) return t.skip("no redis-server");
    let again: TestRedis | undefined;
    const root = await mkdtemp(join(tmpdir(), "vmg-lost-"));
    t.after(async () => { await again?.stop(); await server.stop().catch(() => {}); await rm(root, { recursive: true, force: true }); });
    const input = join(root, "in.zarr"), out = join(root, "lost.ome.zarr");
    await writeVolume(input, knownGaussians([24, 28, 32], 25, 7).volume);
    const coordinator = start(["compress", input, "-o", out, ...ARGS, "--queue", server.url]);
    await until("the jobs queued", async () => (await queued(server.url, out))?.total === JOBS);
    const w = worker(server.url), stopped = worker(server.url);
    await until("the workers serving the store", async () => [w, stopped].every((x) => /serving .*lost\.ome\.zarr/.test(x.stderr())));
    await server.stop();
    const code = await coordinator.exited;
    assert.equal(code, 1);
    const lines = coordinator.stderr().trim().split("\n").filter((l) => !l.startsWith("compress: "));
    assert.equal(lines.length, 1, coordinator.stderr());
    assert.match(lines[0]!, new RegExp(`^vmg: ${server.url.replace(/[/.]/g, "\\$&")}: cannot reach Redis`));
    await until("the workers to say Redis is lost", async () => [w, stopped].every((x) => /lost Redis at redis:\/\/127\.0\.0\.1:\d+\/0 .*retrying with backoff/.test(x.stderr())), 20);
    // a worker stopped while Redis is away stops (it cannot wait for its jobs to be recorded)
    await stop(stopped);
    assert.equal(stopped.child.exitCode, 0, stopped.stderr());
    again = await startRedis(server.port);
    await until("the worker to say Redis is back", async () => /Redis at redis:\/\/127\.0\.0\.1:\d+\/0 is back/.test(w.stderr()), 30);
    await stop(w);
    assert.equal(w.stderr().match(/lost Redis at/g)?.length, 1, w.stderr());
  });
});

describe("a queued job of a replaced store's plan", () => {
  test("its shard and finish jobs refuse the store of another plan and write nothing", async (t) => {
    const root = await mkdtemp(join(tmpdir(), "vmg-stale-"));
    t.after(() => rm(root, { recursive: true, force: true }));
    const store = join(root, "s.ome.zarr");
    const v = knownGaussians([16, 16, 16], 6, 3).volume;
    const plan = await planStore(store, memorySource(v, "s"), { chunk: 8, shard: 16, bytes: 4000, halo: 2, iterations: 5, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, name: "s" });
    await openStoreRun(store, plan, "fresh");
    const meta = { "/zarr.json": Buffer.from("{}").toString("base64") };
    await assert.rejects(runFinishJob({ store, plan: "an-older-plan", bytes: 4000, meta, seal: "seal-1" }), /holds a run of another plan .* than this job's \(an-older-plan\)/);
    await assert.rejects(runShardJob({ store, plan: "an-older-plan", shard: 0 }), /holds a run of another plan/);
    assert.ok(!existsSync(join(store, "zarr.json")), "no metadata written over the store");
  });

  test("a fit job in flight across a re-plan cannot stage its chunk into the new plan's store", async (t) => {
    const root = await mkdtemp(join(tmpdir(), "vmg-stale-"));
    t.after(() => rm(root, { recursive: true, force: true }));
    const store = join(root, "s.ome.zarr");
    const v = knownGaussians([16, 16, 16], 6, 3).volume;
    const settings = { chunk: 8, shard: 16, bytes: 4000, halo: 2, iterations: 5, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, name: "s" } as const;
    const older = await planStore(store, memorySource(v, "s"), settings);
    const run = await openStoreRun(store, older, "fresh");
    // this thread knows the older plan (its shard job ran), and a fit job holds its run when the store is re-planned
    assert.deepEqual(await runShardJob({ store, plan: run.plan, shard: 0 }), { assembled: 0 });
    const newer = await planStore(store, memorySource(v, "s"), { ...settings, seed: 2 });
    const now = await openStoreRun(store, newer, "fresh");
    assert.notEqual(now.plan, run.plan);
    await assert.rejects(run.stage(await older.jobs.job(0), new Uint8Array([1, 2, 3])), /staging area of its run's plan .* is gone: the store was completed, or replaced by a run of another plan/);
    assert.equal(await now.staged(await newer.jobs.job(0)), false, "nothing staged for the new plan");
    // and the older plan's jobs still queued are refused before they fit (the manifest's change is seen)
    await assert.rejects(runFitJob({ store, input: join(root, "gone.zarr"), read: {} }, { k: 0, plan: run.plan }), /holds a run of another plan/);
    await assert.rejects(runShardJob({ store, plan: run.plan, shard: 0 }), /holds a run of another plan/);
  });
});
