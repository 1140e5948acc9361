/** A run's job table (docs/vmg-zarr-codec.md § 6.3): jobs placed by the levels alone, records read back checked. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkJobTableHeader, decodeJobRecord, encodeJobTable, jobCount, jobIndex, jobPlace, JOB_RECORD_BYTES, jobRecordOffset, memoryJobTable, plannedShard, shardCount } from "../src/store/job-table.js";
import type { PlannedJob } from "../src/store/manifest.js";
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
