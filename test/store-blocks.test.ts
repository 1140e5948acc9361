/**
 * A store written as block jobs (docs/vmg-zarr-codec.md § 6.3): `vmg compress --blocks i/N` run as
 * separate processes in a shuffled order, a local run killed with SIGKILL then `--resume`d, and jobs
 * processed twice (at once and after the store is complete) all give the bytes of one local run;
 * and the local worker threads go on past a block whose fit fails.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { writeVolume } from "../src/node/atomic-write.js";
import { fitChunksOnWorkers } from "../src/node/block-pool.js";
import { buildScratch, jobBlock, openPlannedRun, planStore, writeGaussianStore } from "../src/node/store-writer.js";
import type { Box } from "../src/core/background.js";
import { chunkBox, type LevelPlan } from "../src/store/plan.js";
import type { Shape3 } from "../src/core/gaussian.js";
import { memorySource, type VolumeSource } from "../src/io/region.js";
import { MANIFEST_NAME, RUN_MANIFEST_VERSION, STAGING_NAME } from "../src/store/manifest.js";
import { jobRecordOffset } from "../src/store/job-table.js";
import { vmg } from "./helpers/cli.js";
import { assertSameStore, storeFiles } from "./helpers/stores.js";
import { knownGaussians } from "./helpers/volumes.js";

/** A chunk's block: its voxels and a halo, clipped to the level. */
function blockBox(l: LevelPlan, c: Shape3, chunk: number, halo: number): Box {
  const b = chunkBox(l, c, chunk);
  return { z0: Math.max(0, b.z0 - halo), z1: Math.min(l.shape[0], b.z1 + halo), y0: Math.max(0, b.y0 - halo), y1: Math.min(l.shape[1], b.y1 + halo), x0: Math.max(0, b.x0 - halo), x1: Math.min(l.shape[2], b.x1 + halo) };
}

const BIN = fileURLToPath(new URL("../bin/vmg.mjs", import.meta.url));
/** 24×28×32 voxels in 8³ chunks and 16³ shards: 57 chunks over 3 levels, 10 shards. */
const ARGS = ["--chunk", "8", "--shard", "16", "--bpp", "4", "--iterations", "40", "--threads", "1"];

async function compress(input: string, out: string, extra: string[] = []) {
  const r = await vmg(["compress", input, "-o", out, ...ARGS, "--json", ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe("a store written as block jobs", { timeout: 240_000 }, () => {
  let dir = "", input = "", local = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vmg-blocks-"));
    input = join(dir, "in.zarr");
    await writeVolume(input, knownGaussians([24, 28, 32], 25, 7).volume);
    local = join(dir, "local.ome.zarr");
    const line = await compress(input, local);
    assert.ok(line.levels[0].fitted > 0 && line.levels[0].background > 0, JSON.stringify(line.levels));
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test("--blocks i/N for every i, as separate processes in a shuffled order, gives the local run's store", async () => {
    const out = join(dir, "blocks.ome.zarr");
    const order = [3, 0, 4, 2, 1];
    let assembled = 0;
    for (const [n, i] of order.entries()) {
      const line = await compress(input, out, ["--blocks", `${i}/5`]);
      assert.equal(line.block, i);
      assert.equal(line.complete, n === order.length - 1, `after run ${i}`);
      assembled += line.assembled;
      // a reader sees no store until the last shard is in, and says why
      assert.equal(existsSync(join(out, "zarr.json")), n === order.length - 1);
      // run 3 of 5 fitted jobs 3, 8, …, 53
      if (n === 0) assert.match((await vmg(["info", out])).stderr, /^vmg: .*blocks\.ome\.zarr: is a store still being written .*; 11 of 57 chunks staged\)/);
    }
    await assertSameStore(out, local);
    // each shard assembled once, by the run that staged its last chunk
    const shards = [...(await storeFiles(out)).keys()].filter((k) => /\/c\//.test(k));
    assert.equal(assembled, shards.length);
    // the manifest is the run's record, not the store's data: info counts the same bytes for both
    const bytes = async (s: string) => JSON.parse((await vmg(["info", s, "--json"])).stdout).bytes;
    assert.equal(await bytes(out), await bytes(local));
  });

  test("--plan-only once, then --blocks i/N for every i, gives the local run's store; a task of other settings is refused", async () => {
    const out = join(dir, "planned.ome.zarr");
    const plan = await compress(input, out, ["--plan-only"]);
    assert.equal(plan.chunks, 57);
    assert.deepEqual(plan.levels.map((l: { shape: number[] }) => l.shape), [[24, 28, 32], [12, 14, 16], [6, 7, 8]]);
    assert.equal(plan.fitted + plan.empty, plan.chunks);
    assert.ok(plan.levels[0].fitted > 0 && plan.levels[0].empty > 0, JSON.stringify(plan.levels));
    assert.ok(plan.levels.reduce((n: number, l: { bytes: number }) => n + l.bytes, 0) <= plan.bytes, "the caps stay within the budget");
    assert.equal(plan.complete, false);
    // the run is open with its levels, and nothing is fitted
    assert.ok(existsSync(join(out, MANIFEST_NAME)) && !existsSync(join(out, "zarr.json")));
    const names = await readdir(join(out, STAGING_NAME), { recursive: true });
    assert.ok(names.includes("levels"), "the levels below the input are written");
    assert.deepEqual(names.filter((n) => /^[0-9a-f]+\/\d+\/\d+\.\d+\.\d+$/.test(n)), [], "no chunk is staged");
    // a plan job run again (a requeue) joins its own run
    const again = await compress(input, out, ["--plan-only"]);
    assert.deepEqual(again.levels, plan.levels);
    const other = await vmg(["compress", input, "-o", out, ...ARGS, "--seed", "2", "--halo", "1", "--blocks", "0/3"]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /^vmg: .*planned\.ome\.zarr: holds a run planned with other settings \(halo 0, not 1; seed 1, not 2\): every task of a store must be given the settings it was planned with\n$/);
    let fitted = 0;
    for (const i of [2, 0, 1]) fitted += (await compress(input, out, ["--blocks", `${i}/3`])).fitted;
    assert.equal(fitted, plan.chunks);
    await assertSameStore(out, local);
    assert.deepEqual(await readFile(join(out, MANIFEST_NAME)), await readFile(join(local, MANIFEST_NAME)), "the plan is the local run's");
    const both = await vmg(["compress", input, "-o", out, ...ARGS, "--plan-only", "--blocks", "0/3"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --plan-only or --blocks, not both/);
  });

  test("an input changed after --plan-only fails only the blocks that read the change, naming them; the input restored finishes the store", async () => {
    const moving = join(dir, "moving", "in.zarr"); // named as the local run's input, so the stores can match
    const vol = knownGaussians([24, 28, 32], 25, 7).volume;
    await mkdir(dirname(moving));
    await writeVolume(moving, vol);
    // a 2-voxel halo (not the default 0), so that a change can reach a neighbour's block through it
    const HALO = ["--halo", "2"];
    const reference = join(dir, "moved-reference.ome.zarr");
    await compress(moving, reference, HALO);
    const out = join(dir, "moved.ome.zarr");
    await compress(moving, out, ["--plan-only", ...HALO]);
    // voxels z 2:6, y 9:14, x 18:22 change: inside level 0 chunk [0, 1, 2] (job 6 of the 3×4×4 grid) and,
    // at y 9, in the 2-voxel halo of chunk [0, 0, 2] (job 2), both task 0's of 2; the levels below were made at planning
    const changed = { ...vol, data: vol.data.slice() };
    for (let z = 2; z < 6; z++) for (let y = 9; y < 14; y++) for (let x = 18; x < 22; x++) changed.data[(z * 28 + y) * 32 + x]! += 1;
    await rm(moving, { recursive: true });
    await writeVolume(moving, changed);
    const t1 = await compress(moving, out, ["--blocks", "1/2", ...HALO]);
    assert.equal(t1.fitted, 28);
    const t0 = await vmg(["compress", moving, "-o", out, ...ARGS, ...HALO, "--json", "--blocks", "0/2"]);
    assert.equal(t0.code, 1);
    const lines = t0.stderr.trim().split("\n");
    assert.equal(lines.length, 3, t0.stderr);
    const why = "failed after 1 attempt: .*moving\\/in\\.zarr: .*its voxels are not those planned \\(CRC-32 [0-9a-f]+, planned [0-9a-f]+\\): the input is corrupt or changed since the store's run was planned";
    assert.match(lines[0]!, new RegExp(`level 0 chunk \\[0, 0, 2\\] \\(voxels z 0:8, y 0:8, x 16:24\\) ${why}`));
    assert.match(lines[1]!, new RegExp(`level 0 chunk \\[0, 1, 2\\] \\(voxels z 0:8, y 8:16, x 16:24\\) ${why}`));
    assert.match(lines[2]!, /2 of 29 blocks failed/);
    assert.ok(!existsSync(join(out, "zarr.json")));
    await rm(moving, { recursive: true });
    await writeVolume(moving, vol);
    const fixed = await compress(moving, out, ["--blocks", "0/2", ...HALO]);
    assert.deepEqual([fixed.fitted, fixed.skipped, fixed.complete], [2, 27, true]);
    await assertSameStore(out, reference);
  });

  test("a job processed twice (two runs at once, and again once the store is complete) leaves the same store", async () => {
    const out = join(dir, "twice.ome.zarr");
    const [a, b] = await Promise.all([compress(input, out, ["--blocks", "0/2"]), compress(input, out, ["--blocks", "0/2"])]);
    assert.ok(a.fitted > 0 && b.fitted > 0, "both runs fitted the share");
    await compress(input, out, ["--blocks", "1/2"]);
    await assertSameStore(out, local);
    const again = await compress(input, out, ["--blocks", "1/2"]);
    assert.equal(again.fitted, 0);
    assert.equal(again.complete, true);
    await assertSameStore(out, local);
  });

  test("--blocks tasks racing on one store (all at once, one of them twice) give the local run's store", async () => {
    const out = join(dir, "racing.ome.zarr");
    const lines = await Promise.all(["2/3", "0/3", "1/3", "2/3"].map((b) => compress(input, out, ["--blocks", b])));
    assert.ok(lines.some((l) => l.complete), JSON.stringify(lines));
    await assertSameStore(out, local);
  });

  test("a run killed with SIGKILL mid-way, then --resume, gives the local run's store", async () => {
    const out = join(dir, "killed.ome.zarr");
    const child = spawn(process.execPath, [BIN, "compress", input, "-o", out, ...ARGS, "--quiet"], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // chunks staged (volmicro-staging/<plan>/<level>/<z.y.x>; the level scratch beside them is written while planning)
    const staged = async () => (await readdir(join(out, STAGING_NAME), { recursive: true }).catch(() => [])).filter((n) => /^[0-9a-f]{16}\/\d+\/\d+\.\d+\.\d+$/.test(n)).length;
    while ((await staged()) < 4 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    child.kill("SIGKILL");
    await exited;
    assert.equal(child.signalCode, "SIGKILL", "the run was killed, not finished");
    assert.ok(!existsSync(join(out, "zarr.json")), "killed before the store was complete");
    // as a write cut short by the kill leaves it: temporaries live in the staging area only (here the plan's)
    const plan = (await readdir(join(out, STAGING_NAME))).find((n) => /^[0-9a-f]{16}$/.test(n))!;
    await writeFile(join(out, STAGING_NAME, plan, "tmp", ".0.123.deadbeef.tmp"), "half");
    const line = await compress(input, out, ["--resume"]);
    assert.ok(line.levels.length === 3);
    // it continued from the run's manifest: no planning pass read the input again
    const phases = line.phases.map((p: { phase: string }) => p.phase);
    assert.ok(phases.includes("plan: the run's manifest") && !phases.some((p: string) => /statistics|allocation/.test(p)), phases.join(", "));
    await assertSameStore(out, local);
  });

  test("--resume refuses, in one line naming the store and what differs, an input of another shape or other voxels", async () => {
    const out = join(dir, "resume-other.ome.zarr");
    await compress(input, out, ["--plan-only"]);
    const other = join(dir, "other", "in.zarr"); // named as the input, so only its voxels differ
    await mkdir(dirname(other), { recursive: true });
    await writeVolume(other, knownGaussians([24, 28, 32], 25, 8).volume);
    const changed = await vmg(["compress", other, "-o", out, ...ARGS, "--resume"]);
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /^vmg: .*resume-other\.ome\.zarr: cannot resume it: the input is not the one its run was planned with \(.*other\/in\.zarr: level 0 chunk \[0, 0, 0\] \(voxels z 0:8, y 0:8, x 0:8\): its voxels are not those planned \(CRC-32 [0-9a-f]+, planned [0-9a-f]+\).*\); resume with that input, or run without --resume to replace the store\n$/);
    const smaller = join(dir, "smaller", "in.zarr");
    await mkdir(dirname(smaller), { recursive: true });
    await writeVolume(smaller, knownGaussians([24, 32, 28], 25, 7).volume);
    const shape = await vmg(["compress", smaller, "-o", out, ...ARGS, "--resume"]);
    assert.equal(shape.code, 1);
    assert.match(shape.stderr, /^vmg: .*smaller\/in\.zarr: is 24×32×28 uint16, but the run at .*resume-other\.ome\.zarr was planned for 24×28×32 uint16: .*\n$/);
    const names = await readdir(join(out, STAGING_NAME), { recursive: true });
    assert.deepEqual(names.filter((n) => /^[0-9a-f]+\/\d+\/\d+\.\d+\.\d+$/.test(n)), [], "nothing was fitted");
    // the planned input resumes it (here: fits every block) to the local run's store
    await compress(input, out, ["--resume"]);
    await assertSameStore(out, local);
  });

  test("a run planned by an older vmg (manifest layout 2: its jobs listed in the JSON) is refused in one line, not fitted block by block", async () => {
    const out = join(dir, "older.ome.zarr");
    await compress(input, out, ["--plan-only"]);
    const path = join(out, MANIFEST_NAME);
    const m = JSON.parse(await readFile(path, "utf8"));
    await writeFile(path, JSON.stringify({ ...m, volmicro_run: 2, jobs: [[0, 0, 0, 0, 120, 12345]] }) + "\n");
    for (const extra of [["--blocks", "0/1"], ["--resume"]]) {
      const r = await vmg(["compress", input, "-o", out, ...ARGS, ...extra]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^vmg: .*older\\.ome\\.zarr: volmicro-manifest\\.json is not a run manifest \\(its layout is 2, this vmg reads ${RUN_MANIFEST_VERSION}: the run was planned by another vmg version; .*\\)\\n$`));
    }
    assert.deepEqual((await readdir(join(out, STAGING_NAME), { recursive: true })).filter((n) => /^[0-9a-f]{16}\/\d+\/\d+\.\d+\.\d+$/.test(n)), [], "no chunk was staged");
  });

  test("a run fits on the kernel path it was planned with: a kernel plan is refused where the kernel is off, a JS plan fits on JS where it is on", async () => {
    const js = { VMG_DECODE_KERNEL: "js" };
    const settings = async (out: string) => JSON.parse(await readFile(join(out, MANIFEST_NAME), "utf8")).settings;
    const kernel = join(dir, "kernel-plan.ome.zarr");
    await compress(input, kernel, ["--plan-only"]);
    assert.equal((await settings(kernel)).fit_kernel, "wasm", "this host's CLI runs the WebAssembly kernel");
    for (const extra of [["--blocks", "0/2"], ["--resume"]]) {
      const r = await vmg(["compress", input, "-o", kernel, ...ARGS, ...extra], js);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^vmg: .*kernel-plan\.ome\.zarr: planned with the WebAssembly fit kernel, this host has only the JavaScript fit path \(VMG_DECODE_KERNEL=js[^\n]*\); run it where the kernel is built\n$/);
    }
    assert.deepEqual((await readdir(join(kernel, STAGING_NAME), { recursive: true })).filter((n) => /^[0-9a-f]{16}\/\d+\/\d+\.\d+\.\d+$/.test(n)), [], "no chunk was staged");
    // planned on JS, its tasks run where the kernel is: the bytes of a whole run on JS, not of the kernel's
    const planned = join(dir, "js-plan.ome.zarr"), whole = join(dir, "js-local.ome.zarr");
    for (const [out, extra] of [[planned, ["--plan-only"]], [whole, []]] as const) {
      const r = await vmg(["compress", input, "-o", out, ...ARGS, ...extra], js);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await settings(planned)).fit_kernel, "js");
    for (const i of [1, 0]) await compress(input, planned, ["--blocks", `${i}/2`]);
    await assertSameStore(planned, whole);
    const shards = async (s: string) => [...(await storeFiles(s))].sort(([a], [b]) => (a < b ? -1 : 1)).filter(([k]) => /\/c\//.test(k)).map(([, v]) => v);
    assert.notDeepEqual(await shards(whole), await shards(local), "the kernel and JS runs wrote the same chunks: the test shows nothing");
  });

  test("a damaged or missing job table fails the blocks that read it, naming the table, and fits nothing from a wrong cap", async () => {
    const out = join(dir, "table.ome.zarr");
    await compress(input, out, ["--plan-only"]);
    const name = (await readdir(out)).find((n) => /^volmicro-manifest\.[0-9a-f]{16}\.jobs$/.test(n))!;
    const table = await readFile(join(out, name));
    table[jobRecordOffset(0) + 16]! ^= 1; // job 0's cap
    await writeFile(join(out, name), table);
    const damaged = await vmg(["compress", input, "-o", out, ...ARGS, "--blocks", "0/57"]);
    assert.equal(damaged.code, 1);
    assert.match(damaged.stderr, new RegExp(`failed after 1 attempt: .*table\\.ome\\.zarr: ${name.replace(/\./g, "\\.")} job 0's record is damaged \\(its CRC-32 does not match\\)\n.*1 of 1 blocks failed`, "s"));
    await rm(join(out, name));
    const missing = await vmg(["compress", input, "-o", out, ...ARGS, "--blocks", "1/57"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /is missing: the run's job table goes with its manifest/);
    assert.doesNotMatch(missing.stderr, /blocks failed/, "a missing table fails the task up front, not each of its blocks");
    assert.deepEqual((await readdir(join(out, STAGING_NAME), { recursive: true })).filter((n) => /^[0-9a-f]{16}\/\d+\/\d+\.\d+\.\d+$/.test(n)), [], "no chunk was staged");
  });

  test("--resume and --blocks refuse a run of other settings, and --resume refuses where there is none", async () => {
    const other = await vmg(["compress", input, "-o", local, ...ARGS, "--seed", "2", "--resume"]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /^vmg: .*local\.ome\.zarr: holds a run planned with other settings \(seed 1, not 2\): cannot resume it: resume with the settings it was planned with, or run without --resume to replace it\n$/);
    const share = await vmg(["compress", input, "-o", local, ...ARGS, "--seed", "2", "--blocks", "0/2"]);
    assert.equal(share.code, 1);
    assert.equal(share.stderr.trim().split("\n").length, 1);
    const none = await vmg(["compress", input, "-o", join(dir, "none.ome.zarr"), ...ARGS, "--resume"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /nothing to resume/);
    // a local run replaces a store of another plan
    const replaced = join(dir, "twice.ome.zarr");
    await compress(input, replaced, ["--halo", "3"]);
    assert.equal(JSON.parse(await readFile(join(replaced, MANIFEST_NAME), "utf8")).settings.halo, 3);
    const [mine, theirs] = [await storeFiles(replaced), await storeFiles(local)];
    assert.ok([...mine].some(([k, v]) => !theirs.get(k)?.equals(v)), "another halo gives other chunks");
    const bad = await vmg(["compress", input, "-o", join(dir, "bad.ome.zarr"), ...ARGS, "--blocks", "3/3"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--blocks must be i\/N/);
  });
});

describe("local worker threads", { timeout: 120_000 }, () => {
  test("the input is walked twice before the fits (statistics and CRCs of the level-0 blocks, then the levels, their scratch written on the way), three times over another store", async (t) => {
    const v = knownGaussians([16, 16, 24], 10, 7).volume;
    const root = await mkdtemp(join(tmpdir(), "vmg-reads-"));
    t.after(() => rm(root, { recursive: true, force: true }));
    const o = { chunk: 8, shard: 16, bytes: 4000, halo: 2, iterations: 5, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, name: "reads", threads: 2 } as const;
    const src = memorySource(v, "reads");
    let read = 0;
    const counted: VolumeSource = { ...src, read: (b) => { read += (b.z1 - b.z0) * (b.y1 - b.y0) * (b.x1 - b.x0); return src.read(b); } };
    // the fits read each level-0 chunk's block: the chunk and a halo of 2, clipped to the volume
    const along = (n: number) => Array.from({ length: n / 8 }, (_, c) => Math.min(n, 8 * c + 10) - Math.max(0, 8 * c - 2)).reduce((a, b) => a + b, 0);
    const blocks = along(16) * along(16) * along(24), voxels = v.data.length;
    const out = join(root, "new.ome.zarr");
    assert.equal((await writeGaussianStore(out, counted, o)).complete, true);
    assert.equal(read, voxels + 2 * blocks, "a new store");
    // a store of another plan at the path is replaced only when the run opens: the levels are made after
    read = 0;
    assert.equal((await writeGaussianStore(out, counted, { ...o, seed: 2 })).complete, true);
    assert.equal(read, 2 * voxels + 2 * blocks, "over another store");
  });

  test("after the plan step, each --blocks task reads only its own blocks of the input", async (t) => {
    const v = knownGaussians([16, 16, 24], 10, 7).volume;
    const root = await mkdtemp(join(tmpdir(), "vmg-planonce-"));
    t.after(() => rm(root, { recursive: true, force: true }));
    const o = { chunk: 8, shard: 16, bytes: 4000, halo: 2, iterations: 5, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, name: "reads", threads: 1 } as const;
    const src = memorySource(v, "reads");
    const reads: Box[] = [];
    const counted: VolumeSource = { ...src, read: (b) => { reads.push(b); return src.read(b); } };
    const voxels = (bs: Box[]) => bs.reduce((n, b) => n + (b.z1 - b.z0) * (b.y1 - b.y0) * (b.x1 - b.x0), 0);
    const out = join(root, "planned.ome.zarr");
    const { plan } = await openPlannedRun(out, counted, o);
    const jobs = await Promise.all(Array.from({ length: plan.jobs.count }, (_, k) => plan.jobs.job(k)));
    const level0 = jobs.flatMap((j, k) => (j.level === 0 ? [k] : []));
    const blocks = level0.map((k) => blockBox(plan.levels[0]!, jobs[k]!.chunk, 8, 2));
    assert.equal(voxels(reads), voxels(blocks) + v.data.length, "the plan step: statistics and CRCs of the blocks, then the levels (their scratch written on the way)");
    for (let i = 0; i < 3; i++) {
      reads.length = 0;
      const r = await writeGaussianStore(out, counted, { ...o, blocks: { index: i, count: 3 } });
      assert.equal(r.fitted, jobs.filter((_, k) => k % 3 === i).length);
      // the task's level-0 blocks (each chunk and its halo), once each, and nothing else of the input
      const mine = blocks.filter((_, n) => level0[n]! % 3 === i);
      assert.deepEqual(reads.map((b) => JSON.stringify(b)).sort(), mine.map((b) => JSON.stringify(b)).sort(), `task ${i}`);
    }
    assert.equal((await writeGaussianStore(out, counted, { ...o, blocks: { index: 0, count: 3 } })).complete, true);
  });

  test("--resume where there is no run refuses before the planning pass reads the input", async (t) => {
    const root = await mkdtemp(join(tmpdir(), "vmg-noresume-"));
    t.after(() => rm(root, { recursive: true, force: true }));
    const o = { chunk: 8, shard: 16, bytes: 4000, halo: 2, iterations: 5, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, name: "none", threads: 1, resume: true } as const;
    const src = memorySource(knownGaussians([16, 16, 16], 4, 7).volume, "none");
    let read = 0;
    const counted: VolumeSource = { ...src, read: (b) => { read++; return src.read(b); } };
    await assert.rejects(writeGaussianStore(join(root, "none.ome.zarr"), counted, o), /none\.ome\.zarr: nothing to resume: there is no store there/);
    await mkdir(join(root, "empty.ome.zarr", STAGING_NAME), { recursive: true }); // a run killed before it wrote its manifest
    await assert.rejects(writeGaussianStore(join(root, "empty.ome.zarr"), counted, o), /empty\.ome\.zarr: nothing to resume: it holds no run manifest/);
    assert.equal(read, 0);
  });

  test("--blocks tasks sharing a new path: one whose planning fails, or one given another input, harms none of the others' work", async (t) => {
    const root = await mkdtemp(join(tmpdir(), "vmg-share-"));
    t.after(() => rm(root, { recursive: true, force: true }));
    const o = { chunk: 8, shard: 16, bytes: 4000, halo: 2, iterations: 5, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, name: "share", threads: 1 } as const;
    const good = memorySource(knownGaussians([16, 16, 24], 10, 7).volume, "in");
    const other = memorySource(knownGaussians([16, 16, 24], 10, 8).volume, "in");
    const clean = join(root, "clean.ome.zarr");
    await writeGaussianStore(clean, good, o);
    const statsReads = 12; // the input statistics read each level-0 chunk once; the planning walk's reads follow
    // `src`, whose planning walk runs `meanwhile` (another task on the same path) at its `at`-th read, then fails there or goes on
    const during = (src: VolumeSource, at: number, meanwhile: () => Promise<unknown>, fail: boolean): VolumeSource => {
      let n = 0;
      return { ...src, read: async (b) => {
        if (++n === statsReads + at) { await meanwhile(); if (fail) throw new Error("transient read error"); }
        return src.read(b);
      } };
    };
    // a task whose walk fails late, after the path was made and another task opened the run there and fitted its share
    const failing = join(root, "failing.ome.zarr");
    const second = () => writeGaussianStore(failing, good, { ...o, blocks: { index: 1, count: 2 } });
    await assert.rejects(writeGaussianStore(failing, during(good, 10, second, true), { ...o, blocks: { index: 0, count: 2 } }), /transient read error/);
    assert.ok(existsSync(join(failing, MANIFEST_NAME)), "the other task's run is still there");
    assert.equal((await writeGaussianStore(failing, good, { ...o, blocks: { index: 0, count: 2 } })).complete, true);
    await assertSameStore(failing, clean);
    // a task given another input walks it while a right one completes its share; it is refused at open, and the store is still right
    const mixed = join(root, "mixed.ome.zarr");
    const right = () => writeGaussianStore(mixed, good, { ...o, blocks: { index: 0, count: 2 } });
    await assert.rejects(writeGaussianStore(mixed, during(other, 1, right, false), { ...o, blocks: { index: 1, count: 2 } }), /another input or other settings/);
    assert.equal((await writeGaussianStore(mixed, good, { ...o, blocks: { index: 1, count: 2 } })).complete, true);
    await assertSameStore(mixed, clean);
  });

  test("a block whose fit fails is reported and every other block is still fitted", async (t) => {
    const v = knownGaussians([16, 16, 16], 10, 7).volume;
    const root = await mkdtemp(join(tmpdir(), "vmg-pool-"));
    t.after(() => rm(root, { recursive: true, force: true }));
    const plan = await planStore(join(root, "pool.ome.zarr"), memorySource(v, "pool"), { chunk: 8, shard: 16, bytes: 4000, halo: 2, iterations: 5, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, name: "pool" });
    await buildScratch(plan); // the levels below the input, which their jobs read
    const bad = 3;
    const make = async (k: number) => {
      const job = await jobBlock(plan, k);
      // a job the fitter refuses (what the encoder does with a configuration it does not know)
      return k === bad ? { ...job, config: { ...job.config, encoding: "bogus" as "packed" } } : job;
    };
    const stored: number[] = [];
    const failures = await fitChunksOnWorkers(plan.jobs.count, make, async (k) => { stored.push(k); }, 2);
    assert.deepEqual(failures.map((f) => f.index), [bad]);
    assert.match(failures[0]!.error.message, /unknown Gaussian encoding "bogus"/);
    assert.deepEqual(stored.sort((a, b) => a - b), Array.from({ length: plan.jobs.count }, (_, k) => k).filter((k) => k !== bad));
  });
});
