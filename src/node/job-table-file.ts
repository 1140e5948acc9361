/**
 * A run's job table read from its file beside the manifest (store/job-table.ts), one record by its
 * offset per request: a task or queue thread holds the manifest's few fields and nothing per job,
 * whatever the run's size. The file of a plan is never rewritten (its name is the plan's), so its
 * header is checked once. `caps` (the longest-first order of a task's jobs) reads the whole table
 * once through one handle and checks it against the manifest's CRC-32.
 */
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { isVmgError } from "../core/errors.js";
import { VolumeWriteError } from "../io/errors.js";
import { checkJobTableHeader, decodeJobRecord, hasDamagedRecord, JOB_RECORD_BYTES, JOB_TABLE_HEADER_BYTES, jobRecordOffset, jobTableDigest, recordCaps, type JobTable } from "../store/job-table.js";
import { jobTableName, type RunManifest } from "../store/manifest.js";
import { readAt } from "./read-at.js";

export function fileJobTable(root: string, m: RunManifest, plan: string): JobTable {
  const name = jobTableName(plan), path = join(root, name), count = m.jobs.count;
  const fail = (problem: string, cause?: unknown) => new VolumeWriteError(root, `${name} ${problem}`, cause === undefined ? undefined : { cause });
  let checked = false;
  /** `use` with the table open and its header and size checked (once), its errors naming the table. */
  const withTable = async <T>(use: (fh: FileHandle) => Promise<T>): Promise<T> => {
    let fh;
    try {
      fh = await open(path, "r");
    } catch (e) {
      const missing = (e as { code?: string }).code === "ENOENT";
      throw fail(missing ? "is missing: the run's job table goes with its manifest (copy or remove both)" : `cannot be read (${(e as Error).message})`, e);
    }
    try {
      if (!checked) {
        checkJobTableHeader(await readAt(fh, 0, JOB_TABLE_HEADER_BYTES), count);
        const size = (await fh.stat()).size;
        if (size !== jobRecordOffset(count)) throw new Error(`is ${size} bytes, not the ${jobRecordOffset(count)} of ${count} jobs`);
        checked = true;
      }
      return await use(fh);
    } catch (e) {
      throw isVmgError(e) ? e : fail((e as Error).message, e);
    } finally {
      await fh.close().catch(() => {});
    }
  };
  return {
    count,
    async job(k) {
      if (!(Number.isInteger(k) && k >= 0 && k < count)) throw fail(`has no job ${k} (the run has ${count})`);
      return withTable(async (fh) => decodeJobRecord(await readAt(fh, jobRecordOffset(k), JOB_RECORD_BYTES), m.levels, k));
    },
    caps: (ks) => withTable(async (fh) => {
      const table = await readAt(fh, 0, jobRecordOffset(count));
      if (table.length !== jobRecordOffset(count)) throw new Error(`ends at byte ${table.length}, not the ${jobRecordOffset(count)} of ${count} jobs`);
      // another plan's table is refused here; a damaged record (its fields changed, so the digest) fails only its own block
      if (jobTableDigest(table) !== m.jobs.crc32 && !hasDamagedRecord(table, m.levels, count)) throw new Error(`is not its manifest's (its CRC-32 does not match): the run's job table goes with its manifest (copy or remove both)`);
      return recordCaps(table, m.levels, ks).caps;
    }),
  };
}
