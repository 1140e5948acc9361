/**
 * Where a store's queue lives: the Redis URL every command is given (`redis://host:port/db`), the
 * queue names of a store (namespaced by its path, so stores share one Redis) and the registry of
 * stores that workers and `vmg status` read.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { ConnectionOptions } from "bullmq";
import { planKey, type RunManifest } from "../store/manifest.js";
import { QueueUrlError } from "./errors.js";

export function parseRedisUrl(url: string): ConnectionOptions & { host: string; port: number; db: number } {
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
  // a worker must wait out a Redis restart rather than fail its jobs (BullMQ's advice for workers)
  return { host: u.hostname, port, db, maxRetriesPerRequest: null, ...(password ? { password } : {}), ...(u.username ? { username: decodeURIComponent(u.username) } : {}) };
}

/** A store's namespace: its absolute path hashed (every worker must see the store at that path). */
export function storeNamespace(store: string): string {
  return "vmg-" + createHash("sha256").update(resolve(store)).digest("hex").slice(0, 12);
}

/** The store's three queues: block fits, shard assemblies (parents of their fits), the finish (parent of every shard). */
export function queueNames(ns: string): { fit: string; shard: string; finish: string } {
  return { fit: `${ns}-fit`, shard: `${ns}-shard`, finish: `${ns}-finish` };
}

/** A plan's identity, short: the hash of its manifest (progress aside). */
export function planId(m: RunManifest): string {
  return createHash("sha256").update(planKey(m)).digest("hex").slice(0, 16);
}

/** Redis hash: namespace → RegisteredStore (JSON). */
export const REGISTRY_KEY = "volmicro:stores";

export interface RegisteredStore {
  ns: string;
  store: string;
  input: string;
  /** The plan's identity (hash of its manifest), so a re-planned store replaces its old jobs. */
  plan: string;
  /** Jobs per level, levels in order (job k's level follows from it). */
  levelJobs: number[];
  /** Voxels of all jobs (progress in MVox/s). */
  voxels: number;
  queued: string;
}

export function levelOfJob(levelJobs: number[], k: number): number {
  let end = 0;
  for (let l = 0; l < levelJobs.length; l++) if (k < (end += levelJobs[l]!)) return l;
  return levelJobs.length - 1;
}
