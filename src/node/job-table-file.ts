/**
 * A run's job table read from its file beside the manifest (store/job-table.ts), one record by its
 * offset per request: a task or queue thread holds the manifest's few fields and nothing per job,
 * whatever the run's size. The file of a plan is never rewritten (its name is the plan's), so its
 * header is checked once.
 */
import { open } from "node:fs/promises";
import { join } from "node:path";
import { isVmgError } from "../core/errors.js";
import { VolumeWriteError } from "../io/errors.js";
import { checkJobTableHeader, decodeJobRecord, JOB_RECORD_BYTES, JOB_TABLE_HEADER_BYTES, jobRecordOffset, type JobTable } from "../store/job-table.js";
import { jobTableName, type RunManifest } from "../store/manifest.js";

export function fileJobTable(root: string, m: RunManifest, plan: string): JobTable {
  const name = jobTableName(plan), path = join(root, name), count = m.jobs.count;
  const fail = (problem: string, cause?: unknown) => new VolumeWriteError(root, `${name} ${problem}`, cause === undefined ? undefined : { cause });
  let checked = false;
  const read = async (fh: Awaited<ReturnType<typeof open>>, at: number, n: number) => {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, at);
    return buf.subarray(0, bytesRead);
  };
  return {
    count,
    async job(k) {
      if (!(Number.isInteger(k) && k >= 0 && k < count)) throw fail(`has no job ${k} (the run has ${count})`);
      let fh;
      try {
        fh = await open(path, "r");
      } catch (e) {
        const missing = (e as { code?: string }).code === "ENOENT";
        throw fail(missing ? "is missing: the run's job table goes with its manifest (copy or remove both)" : `cannot be read (${(e as Error).message})`, e);
      }
      try {
        if (!checked) {
          checkJobTableHeader(await read(fh, 0, JOB_TABLE_HEADER_BYTES), count);
          const size = (await fh.stat()).size;
          if (size !== jobRecordOffset(count)) throw new Error(`is ${size} bytes, not the ${jobRecordOffset(count)} of ${count} jobs`);
          checked = true;
        }
        return decodeJobRecord(await read(fh, jobRecordOffset(k), JOB_RECORD_BYTES), m.levels, k);
      } catch (e) {
        throw isVmgError(e) ? e : fail((e as Error).message, e);
      } finally {
        await fh.close().catch(() => {});
      }
    },
  };
}
