/** `vmg status redis://host:port/db [--store PATH] [--json]`: progress of the stores queued there. */
import { resolve } from "node:path";
import { parseArgs, stringFlag, UsageError } from "./args.js";
import { failedBlockLines } from "./block-report.js";
import { queueUrl } from "./store-commands.js";

export const STATUS_USAGE = `usage: vmg status redis://host:port/db [--store PATH] [--json]

  For every store queued in that Redis database (or the one at PATH): its state (running,
  complete, incomplete: blocks failed after their retries, failed: finishing failed), block jobs
  done/total per level, jobs being fitted, and each failed block's level, chunk, voxel box and
  error (Redis keeps the newest 1000 failed blocks of a store; failedCount counts all).
  --json prints one line: {"stores":[{"store","input","queue","state","done","total","active",
  "levels":[{"level","done","total"}],"failed":[{"level","chunk","box","error","attempts"}],
  "failedCount"}]}`;

export async function statusCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, { store: { value: true }, json: {} });
  if (p.positionals.length !== 1) throw new UsageError(STATUS_USAGE);
  const url = queueUrl(p.positionals[0]!);
  const only = stringFlag(p, "store");
  const { connectRedis, onRedis, registeredStores, StoreQueues } = await import("../queue/store-queues.js");
  const { storeStatus } = await import("../queue/status.js");
  const redis = await connectRedis(url);
  const stores = [];
  try {
    for (const entry of await onRedis(url, () => registeredStores(redis))) {
      if (only !== undefined && entry.store !== resolve(only)) continue;
      const q = new StoreQueues(url, entry.ns);
      try { stores.push(await onRedis(url, () => storeStatus(entry, q, redis))); } finally { await q.close(); }
    }
  } finally {
    redis.disconnect();
  }
  if (p.flags.has("json")) { console.log(JSON.stringify({ stores })); return; }
  if (stores.length === 0) { console.log(`no store is queued on ${url}${only ? ` at ${only}` : ""}`); return; }
  for (const s of stores) {
    console.log(`${s.store}: ${s.state}, ${s.done}/${s.total} blocks done, ${s.active} being fitted, ${s.failedCount} failed (queues ${s.queue}-*, input ${s.input})`);
    for (const l of s.levels) console.log(`  level ${l.level}: ${l.done}/${l.total}`);
    for (const line of failedBlockLines(s.failed)) console.log(`  ${line}`);
    if (s.failedCount > s.failed.length) console.log(`  (${s.failedCount - s.failed.length} more failed blocks are not kept; the newest ${s.failed.length} are listed)`);
    if (s.error) console.log(`  finishing failed: ${s.error}`);
  }
}
