/** The BullMQ queues of one store, and a plain Redis client for the registry (both closed together). */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { queueNames, redisOptions, REGISTRY_KEY, type Patience, type RegisteredStore } from "./connection.js";
import { QueueError } from "./errors.js";

/**
 * Connects to Redis at `url` or fails with one line once a few seconds of retries are spent: no
 * command waits forever for a server that is not there. `patience`: how the client meets a server
 * that goes away later (connection.ts); "patient" clients report it through `onError`.
 */
export async function connectRedis(url: string, patience: Patience = "bounded", onError?: (e: Error) => void): Promise<Redis> {
  const probe = new Redis({ ...redisOptions(url, "bounded"), lazyConnect: true });
  await untilReady(url, probe).finally(() => { if (patience === "patient") probe.disconnect(); });
  if (patience === "bounded") return probe;
  const redis = new Redis({ ...redisOptions(url, "patient"), lazyConnect: true });
  redis.on("error", (e: Error) => onError?.(e));
  await redis.connect();
  return redis;
}

/** Resolves once the client is ready; rejects with a QueueError naming `url` when its retries run out. */
async function untilReady(url: string, redis: Redis): Promise<void> {
  let cause: Error | undefined;
  redis.on("error", (e: Error) => { cause = e; });
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once("ready", () => resolve());
      redis.once("end", () => reject(unreachable(url, cause ?? new Error("connection closed"))));
      redis.connect().catch(() => {}); // the first refusal rejects here; "end" comes once the retries are spent
    });
  } catch (e) {
    redis.disconnect();
    throw e;
  }
  // from now on a lost server fails the client's commands, which say so (onRedis); without a listener ioredis prints each retry's error
}

export function unreachable(url: string, cause: unknown): QueueError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new QueueError(url, `cannot reach Redis (${why}; gave up after a few seconds of retries)`, { cause });
}

/** Runs `f` on a bounded connection, turning a lost or unreachable Redis into one line naming `url`. */
export async function onRedis<T>(url: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof QueueError || !isConnectionError(e)) throw e;
    throw unreachable(url, e);
  }
}

/** The errors ioredis gives when the server cannot be reached (refused, closed, retries spent): the one test of a lost connection. */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  if (code && ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"].includes(code)) return true;
  return e instanceof Error && /Connection is closed|max retries per request|connect ETIMEDOUT|Stream isn't writeable/i.test(e.message);
}

/**
 * Whether the store's flow has finished (its finish job completed or failed): nothing of it is left
 * to run. Two lookups on a plain client, in BullMQ's key layout (`bull:<queue>:<state>` sets of job
 * ids, the default prefix), so a worker can tell without a queue connection per store.
 */
export async function flowFinished(redis: Redis, ns: string): Promise<boolean> {
  const finish = queueNames(ns).finish;
  const [completed, failed] = await Promise.all([redis.zscore(`bull:${finish}:completed`, FINISH_ID), redis.zscore(`bull:${finish}:failed`, FINISH_ID)]);
  return completed !== null || failed !== null;
}

export async function registeredStores(redis: Redis): Promise<RegisteredStore[]> {
  const all = await redis.hgetall(REGISTRY_KEY);
  return Object.values(all).map((v) => JSON.parse(v) as RegisteredStore).sort((a, b) => a.store.localeCompare(b.store));
}

export class StoreQueues {
  readonly fit: Queue;
  readonly shard: Queue;
  readonly finish: Queue;

  /** `patience`: a coordinator's and `vmg status`'s queues are bounded (their commands fail when Redis is gone). */
  constructor(url: string, ns: string, patience: Patience = "bounded") {
    const connection = redisOptions(url, patience), names = queueNames(ns);
    this.fit = new Queue(names.fit, { connection });
    this.shard = new Queue(names.shard, { connection });
    this.finish = new Queue(names.finish, { connection });
    // a lost connection fails the commands in flight, which say so; the event itself needs a listener or it throws
    for (const q of [this.fit, this.shard, this.finish]) q.on("error", () => {});
  }

  /** Removes every job of the store (an earlier plan's, or a finished flow that would not run again). */
  async obliterate(): Promise<void> {
    for (const q of [this.fit, this.shard, this.finish]) await q.obliterate({ force: true });
  }

  async close(): Promise<void> {
    // closing waits for the connection; one that is gone is dropped instead
    await Promise.all([this.fit, this.shard, this.finish].map((q) => q.close().catch(() => q.disconnect())));
  }
}

/** The finish job's id (one per store's queues). */
export const FINISH_ID = "finish";
/** The id (and name) of the finish job's child that holds it back until its flow is wholly added (coordinator.ts). */
export const SEAL_ID = "seal";
export const fitId = (k: number) => `fit-${k}`;
export const shardId = (s: number) => `shard-${s}`;
