/**
 * Where a store's queue lives: the Redis URL every command is given (`redis://host:port/db`), the
 * queue names of a store (namespaced by its path, so stores share one Redis) and the registry of
 * stores that workers and `vmg status` read.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { OpenVolumeOptions } from "../node/open-volume.js";
import type { LevelLayout } from "../store/manifest.js";
import { QueueUrlError } from "./errors.js";

/** Where a Redis is and how a connection to it retries: options both ioredis and BullMQ take. */
export interface RedisAt {
  host: string;
  port: number;
  db: number;
  password?: string;
  username?: string;
  connectTimeout?: number;
  maxRetriesPerRequest?: number | null;
  retryStrategy?: (times: number) => number | null;
}

export function parseRedisUrl(url: string): RedisAt {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueUrlError(url, "is not a URL; give redis://host:port/db");
  }
  if (u.protocol !== "redis:") throw new QueueUrlError(url, `is a ${u.protocol} URL; give redis://host:port/db`);
  const port = u.port === "" ? 6379 : Number(u.port);
  const db = u.pathname === "" || u.pathname === "/" ? 0 : Number(u.pathname.slice(1));
  if (!Number.isInteger(db) || db < 0) throw new QueueUrlError(url, `names database "${u.pathname.slice(1)}"; the path must be a database number (redis://host:port/0)`);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  return { host: u.hostname, port, db, ...(password ? { password } : {}), ...(u.username ? { username: decodeURIComponent(u.username) } : {}) };
}

/**
 * How a connection meets an unreachable Redis. "bounded" (the coordinator, `vmg status`, and every
 * command's first contact): a few seconds of retries, then its commands fail, so the command can
 * say so in one line. "patient" (a worker once it is serving): retries with backoff for as long as
 * it takes, so a Redis restart does not fail its jobs (BullMQ's advice for workers).
 */
export type Patience = "bounded" | "patient";

/** Reconnection delays of a bounded connection (ms): about 3 s in all, then it gives up. */
const BOUNDED_RETRIES_MS = [100, 200, 400, 800, 1500];
/** A patient connection's longest wait between tries (ms). */
const PATIENT_MAX_DELAY_MS = 5000;

export function redisOptions(url: string, patience: Patience): RedisAt {
  const at = parseRedisUrl(url);
  if (patience === "patient") return { ...at, maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, PATIENT_MAX_DELAY_MS) };
  return { ...at, connectTimeout: 2000, maxRetriesPerRequest: BOUNDED_RETRIES_MS.length, retryStrategy: (times) => BOUNDED_RETRIES_MS[times - 1] ?? null };
}

/** A store's namespace: its absolute path hashed (every worker must see the store at that path). */
export function storeNamespace(store: string): string {
  return "vmg-" + createHash("sha256").update(resolve(store)).digest("hex").slice(0, 12);
}

/** The store's three queues: block fits, shard assemblies (parents of their fits), the finish (parent of every shard). */
export function queueNames(ns: string): { ns: string; fit: string; shard: string; finish: string } {
  return { ns, fit: `${ns}-fit`, shard: `${ns}-shard`, finish: `${ns}-finish` };
}

/**
 * Redis bitmap of a plan's block jobs done (bit k: job k's chunk is staged), set by the job before
 * it completes, so the count is exact although completed jobs are not kept.
 */
export function doneKey(ns: string, plan: string): string {
  return `${ns}-done-${plan}`;
}

/** Redis hash: namespace → RegisteredStore (JSON). */
export const REGISTRY_KEY = "volmicro:stores";

export interface RegisteredStore {
  ns: string;
  store: string;
  input: string;
  /** How the input is read (every worker's fit threads open it so). */
  read: OpenVolumeOptions;
  /** The plan's levels and chunk edge: a fit job's level, chunk and voxels follow from its number. */
  levels: LevelLayout[];
  chunk: number;
  /** The plan's identity (hash of its manifest), so a re-planned store replaces its old jobs. */
  plan: string;
  /** Jobs per level, levels in order (job k's level follows from it). */
  levelJobs: number[];
  /** Voxels of all jobs (progress in MVox/s). */
  voxels: number;
  queued: string;
}
