/** Blocks that failed after their retries, in plain words, and the error that ends the run. */
import { VolumeWriteError } from "../io/errors.js";
import { describeBlock, type FailedBlock } from "../store/manifest.js";

/** One line per block: where it is and why it failed. */
export function failedBlockLines(failed: FailedBlock[]): string[] {
  return failed.map((f) => `${describeBlock(f)} failed after ${f.attempts} attempt${f.attempts === 1 ? "" : "s"}: ${f.error}`);
}

/**
 * Lists the failed blocks on stderr and returns the run's error (exit status 1), naming how many
 * failed: `count`, when more failed than `failed` lists (a queue keeps only the newest).
 */
export function failedBlocksError(store: string, failed: FailedBlock[], total: number, retry: string, count = failed.length): VolumeWriteError {
  for (const line of failedBlockLines(failed)) process.stderr.write(`vmg: ${store}: ${line}\n`);
  const listed = count > failed.length ? `${failed.length} of them listed above` : "listed above";
  return new VolumeWriteError(store, `${count} of ${total} blocks failed (${listed}); the store is not complete: the other blocks are staged, ${retry}`);
}
