/** A run's job table (docs/vmg-zarr-codec.md § 6.3): jobs placed by the levels alone, records read back checked. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileJobTable } from "../src/node/job-table-file.js";
import { checkJobTableHeader, decodeJobRecord, encodeJobTable, jobCount, jobIndex, jobPlace, JOB_RECORD_BYTES, jobRecordOffset, jobTableDigest, memoryJobTable, plannedShard, shardCount } from "../src/store/job-table.js";
import { jobTableName, type PlannedJob, type RunManifest } from "../src/store/manifest.js";
import { planLevel } from "../src/store/plan.js";

// 24×28×32 in 8³ chunks and 16³ shards, then its halves: 48 + 8 + 1 chunks
const levels = [[24, 28, 32], [12, 14, 16], [6, 7, 8]].map((shape, i) => planLevel(i, { shape: shape as [number, number, number] }, 8, 16));

function planned(): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  levels.forEach((l, level) => {
    for (let cz = 0; cz < l.chunkGrid[0]; cz++) for (let cy = 0; cy < l.chunkGrid[1]; cy++) for (let cx = 0; cx < l.chunkGrid[2]; cx++) jobs.push({ level, chunk: [cz, cy, cx], bytes: 100 + jobs.length, crc: (jobs.length * 2654435761) >>> 0 });
  });
  return jobs;
}

test("job k's level and chunk follow from the levels, and every shard lists its chunks' jobs once", () => {
  const jobs = planned();
  assert.equal(jobCount(levels), jobs.length);
  jobs.forEach((j, k) => {
    assert.deepEqual(jobPlace(levels, k), { level: j.level, chunk: j.chunk });
    assert.equal(jobIndex(levels, j.level, j.chunk), k);
  });
  assert.equal(jobPlace(levels, jobs.length), undefined);
  const seen = Array.from({ length: shardCount(levels) }, (_, i) => plannedShard(levels, i)!).flatMap((s) => s.jobs.filter((k) => k >= 0));
  assert.deepEqual(seen.sort((a, b) => a - b), jobs.map((_, k) => k));
  assert.equal(plannedShard(levels, 0)!.path, "0/c/0/0/0");
  assert.equal(plannedShard(levels, shardCount(levels)), undefined);
});

test("a table gives back every job; a damaged, misplaced or foreign record or header is refused saying so", async () => {
  const jobs = planned(), bytes = encodeJobTable(jobs);
  assert.equal(bytes.length, jobRecordOffset(jobs.length));
  const table = memoryJobTable(levels, bytes);
  for (let k = 0; k < jobs.length; k++) assert.deepEqual(await table.job(k), jobs[k]);
  await assert.rejects(table.job(jobs.length), /no job 57 \(the run has 57\)/);
  const record = (k: number, b = bytes) => b.slice(jobRecordOffset(k), jobRecordOffset(k) + JOB_RECORD_BYTES);
  const flipped = record(5);
  flipped[16]! ^= 1; // its cap
  assert.throws(() => decodeJobRecord(flipped, levels, 5), /job 5's record is damaged \(its CRC-32 does not match\)/);
  assert.throws(() => decodeJobRecord(record(6), levels, 5), /job 5's record holds level 0 chunk \[0, 1, 2\], not job 5 of the run's levels/);
  checkJobTableHeader(bytes, jobs.length);
  assert.throws(() => checkJobTableHeader(bytes, jobs.length + 1), /holds 57 jobs, its manifest 58/);
  assert.throws(() => checkJobTableHeader(new TextEncoder().encode('{"jobs":[]}     '), 0), /is not a job table/);
  const later = bytes.slice(0, 16);
  later[8] = 2;
  assert.throws(() => checkJobTableHeader(later, jobs.length), /its layout is 2, this vmg reads 1/);
});

test("a table's caps come from one read of the file: -1 for a damaged record, the task refused up front for a missing, truncated or foreign-header table", async () => {
  const dir = await mkdtemp(join(tmpdir(), "vmg-jobcaps-"));
  try {
    const jobs = planned(), bytes = encodeJobTable(jobs);
    const m = { jobs: { count: jobs.length, crc32: jobTableDigest(bytes) }, levels } as unknown as RunManifest;
    const path = join(dir, jobTableName("p"));
    bytes[jobRecordOffset(5) + 16]! ^= 1; // job 5's cap
    await writeFile(path, bytes);
    const ks = [7, 5, 0, 56];
    assert.deepEqual([...(await fileJobTable(dir, m, "p").caps(ks))], [jobs[7]!.bytes, -1, jobs[0]!.bytes, jobs[56]!.bytes]);
    assert.deepEqual([...(await memoryJobTable(levels, bytes).caps(ks))], [jobs[7]!.bytes, -1, jobs[0]!.bytes, jobs[56]!.bytes]);
    await writeFile(path, bytes.subarray(0, bytes.length - 3));
    await assert.rejects(fileJobTable(dir, m, "p").caps(ks), /volmicro-manifest\.p\.jobs is \d+ bytes, not the \d+ of 57 jobs/);
    await writeFile(path, encodeJobTable(jobs.slice(0, 56)));
    await assert.rejects(fileJobTable(dir, m, "p").caps(ks), /holds 56 jobs, its manifest 57/);
    // another plan's table of the same count, every record intact (its caps differ): refused, not read as this plan's
    await writeFile(path, encodeJobTable(jobs.map((j) => ({ ...j, bytes: j.bytes + 8 }))));
    await assert.rejects(fileJobTable(dir, m, "p").caps(ks), /volmicro-manifest\.p\.jobs is not its manifest's/);
    await rm(path);
    await assert.rejects(fileJobTable(dir, m, "p").caps(ks), /volmicro-manifest\.p\.jobs is missing/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
