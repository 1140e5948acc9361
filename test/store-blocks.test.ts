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
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { writeVolume } from "../src/node/atomic-write.js";
import { fitChunksOnWorkers } from "../src/node/block-pool.js";
import { buildScratch, jobBlock, planStore, writeGaussianStore } from "../src/node/store-writer.js";
import { memorySource, type VolumeSource } from "../src/io/region.js";
import { MANIFEST_NAME, STAGING_NAME } from "../src/store/manifest.js";
import { vmg } from "./helpers/cli.js";
import { assertSameStore, storeFiles } from "./helpers/stores.js";
import { knownGaussians } from "./helpers/volumes.js";

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
    await assertSameStore(out, local);
  });

  test("--resume and --blocks refuse a run of other settings, and --resume refuses where there is none", async () => {
    const other = await vmg(["compress", input, "-o", local, ...ARGS, "--seed", "2", "--resume"]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /^vmg: .*local\.ome\.zarr: nothing to resume: it holds a run \(volmicro-manifest\.json\) planned for another input or other settings/);
    const share = await vmg(["compress", input, "-o", local, ...ARGS, "--seed", "2", "--blocks", "0/2"]);
    assert.equal(share.code, 1);
    assert.equal(share.stderr.trim().split("\n").length, 1);
    const none = await vmg(["compress", input, "-o", join(dir, "none.ome.zarr"), ...ARGS, "--resume"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /nothing to resume/);
    // a local run replaces a store of another plan
    const replaced = join(dir, "twice.ome.zarr");
    await compress(input, replaced, ["--halo", "1"]);
    assert.equal(JSON.parse(await readFile(join(replaced, MANIFEST_NAME), "utf8")).settings.halo, 1);
    const [mine, theirs] = [await storeFiles(replaced), await storeFiles(local)];
    assert.ok([...mine].some(([k, v]) => !theirs.get(k)?.equals(v)), "another halo gives other chunks");
    const bad = await vmg(["compress", input, "-o", join(dir, "bad.ome.zarr"), ...ARGS, "--blocks", "3/3"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--blocks must be i\/N/);
  });
});

describe("local worker threads", { timeout: 120_000 }, () => {
  test("the input is walked twice before the fits (statistics, then the levels, their scratch written on the way), three times over another store", async (t) => {
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
    assert.equal(read, 2 * voxels + blocks, "a new store");
    // a store of another plan at the path is replaced only when the run opens: the levels are made after
    read = 0;
    assert.equal((await writeGaussianStore(out, counted, { ...o, seed: 2 })).complete, true);
    assert.equal(read, 3 * voxels + blocks, "over another store");
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
    const failures = await fitChunksOnWorkers(plan.jobs.length, make, async (k) => { stored.push(k); }, 2);
    assert.deepEqual(failures.map((f) => f.index), [bad]);
    assert.match(failures[0]!.error.message, /unknown Gaussian encoding "bogus"/);
    assert.deepEqual(stored.sort((a, b) => a - b), plan.jobs.map((_, k) => k).filter((k) => k !== bad));
  });
});
