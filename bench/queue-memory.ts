/**
 * Redis memory per queued block job (issue #15): a synthetic run of about `--jobs` jobs
 * (bench/synthetic-run.ts) is enqueued as `vmg compress --queue` does (enqueueStore), on a
 * redis-server of its own, and Redis's `used_memory` before and after, over the jobs, gives the
 * bytes per job; `MEMORY USAGE` of one fit job's hash is printed beside it.
 * `node --import tsx bench/queue-memory.ts [--jobs N] [--json]`
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { openVolumeSource } from "../src/node/open-volume.js";
import { planFromRun, type StoreWriteOptions } from "../src/node/store-writer.js";
import { enqueueStore } from "../src/queue/coordinator.js";
import { queueNames, storeNamespace } from "../src/queue/connection.js";
import { fitId } from "../src/queue/store-queues.js";
import { startRedis } from "../test/helpers/redis.js";
import { BYTES, CHUNK, SHARD, syntheticRun } from "./synthetic-run.js";

const argv = process.argv.slice(2);
const at = argv.indexOf("--jobs");
const target = at >= 0 ? Number(argv[at + 1]) : 1e4;
const redis = await startRedis();
if (!redis) throw new Error("redis-server is not installed");
const dir = await mkdtemp(join(tmpdir(), "vmg-queue-mem-"));
try {
  const r = await syntheticRun(dir, CHUNK * Math.round(Math.cbrt(target)));
  const o: StoreWriteOptions = { chunk: CHUNK, shard: SHARD, bytes: BYTES, halo: 0, iterations: 5, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, allocation: "slope", keep: "overlap", name: "in" };
  const plan = (await planFromRun(r.store, await openVolumeSource(r.input, {}), o))!;
  const client = new Redis({ host: "127.0.0.1", port: redis.port });
  const used = async () => Number(/used_memory:(\d+)/.exec(await client.info("memory"))![1]);
  const before = await used();
  await enqueueStore(redis.url, r.store, plan, { input: r.input, read: {}, attempts: 3 });
  const after = await used();
  const fitKey = `bull:${queueNames(storeNamespace(r.store)).fit}:${fitId(r.level0 + 1)}`;
  const line = { jobs: r.jobs, redis_bytes_per_job: (after - before) / r.jobs, fit_job_hash_bytes: Number(await client.call("MEMORY", "USAGE", fitKey)), used_memory_mb: after / 2 ** 20 };
  client.disconnect();
  console.log(argv.includes("--json") ? JSON.stringify(line) : `${line.jobs} jobs queued: ${line.redis_bytes_per_job.toFixed(0)} bytes of Redis memory per job (a fit job's hash: ${line.fit_job_hash_bytes} bytes), ${line.used_memory_mb.toFixed(1)} MB in all`);
} finally {
  await rm(dir, { recursive: true, force: true });
  await redis.stop();
}
