/** The BullMQ queues of one store, and a plain Redis client for the registry (both closed together). */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { parseRedisUrl, queueNames, REGISTRY_KEY, type RegisteredStore } from "./connection.js";
import { QueueError } from "./errors.js";

/**
 * Connects to Redis at `url` or fails with one line: a coordinator or `vmg status` must not wait
 * forever. `patient` (a worker): once connected, ride out a Redis restart.
 */
export async function connectRedis(url: string, patient = false): Promise<Redis> {
  const redis = new Redis({ ...parseRedisUrl(url), lazyConnect: true, ...(patient ? {} : { maxRetriesPerRequest: 1, retryStrategy: () => null }) });
  let cause: Error | undefined;
  redis.on("error", (e: Error) => { cause = e; }); // reported by connect() below, or by the command that meets it
  try {
    await redis.connect();
  } catch (e) {
    redis.disconnect();
    throw new QueueError(url, `cannot reach Redis (${(cause ?? (e as Error)).message})`, { cause: cause ?? e });
  }
  return redis;
}

export async function registeredStores(redis: Redis): Promise<RegisteredStore[]> {
  const all = await redis.hgetall(REGISTRY_KEY);
  return Object.values(all).map((v) => JSON.parse(v) as RegisteredStore).sort((a, b) => a.store.localeCompare(b.store));
}

export class StoreQueues {
  readonly fit: Queue;
  readonly shard: Queue;
  readonly finish: Queue;

  constructor(url: string, ns: string) {
    const connection = parseRedisUrl(url), names = queueNames(ns);
    this.fit = new Queue(names.fit, { connection });
    this.shard = new Queue(names.shard, { connection });
    this.finish = new Queue(names.finish, { connection });
  }

  /** Removes every job of the store (an earlier plan's, or a finished flow that would not run again). */
  async obliterate(): Promise<void> {
    for (const q of [this.fit, this.shard, this.finish]) await q.obliterate({ force: true });
  }

  async close(): Promise<void> {
    await Promise.all([this.fit.close(), this.shard.close(), this.finish.close()]);
  }
}

/** The finish job's id (one per store's queues). */
export const FINISH_ID = "finish";
export const fitId = (k: number) => `fit-${k}`;
export const shardId = (s: number) => `shard-${s}`;
