/**
 * A store's run on the filesystem (docs/vmg-zarr-codec.md § 6.3): the manifest published once
 * (hard link, so the first of concurrent runs wins and the others check they planned the same),
 * each finished chunk staged under its own name (temporary file, then rename), shards assembled
 * from staged chunks once all of a shard's exist (again write then rename), and the metadata, the
 * root `zarr.json` last, written when every shard is. Every step is idempotent and every write is a
 * rename of complete bytes, so runs racing on the same store can only write identical files.
 *
 * A run's chunks and temporaries lie in a folder of its plan, made when the run is opened and never
 * by a write: a job of a plan the store no longer holds (a queue job queued before a re-plan) finds
 * no folder to write into, so it cannot stage a chunk, or publish a shard or metadata, in the store
 * of another plan.
 */
import { createHash } from "node:crypto";
import { link, lstat, mkdir, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { VolumeWriteError } from "../io/errors.js";
import { checkManifest, isRunFile, jobTableName, MANIFEST_NAME, manifestBytes, planKey, planStaging, STAGING_NAME, stagedPath, type JobPlace, type PlannedShard, type RunManifest } from "../store/manifest.js";
import { jobPlace, type JobTable } from "../store/job-table.js";
import { buildShard } from "../store/shard.js";
import { tempName, writeFileAtomic } from "./atomic-write.js";
import { fileJobTable } from "./job-table-file.js";

/** "fresh": a local run (replaces another store or run there); "resume": continue the run there; "share": one run of `--blocks i/N`. */
export type RunMode = "fresh" | "resume" | "share";

export class StoreRun {
  /** The plan's identity (planId of the manifest). */
  readonly plan: string;

  private constructor(readonly root: string, readonly manifest: RunManifest) {
    this.plan = planId(manifest);
  }

  /**
   * Every file goes through the plan's temporary folder, so what a killed run leaves half-written
   * lies there and goes when the staging area does, and a write of a plan whose folder is gone
   * (the store was completed, or replaced by a run of another plan) fails instead of landing.
   * `folder`: whether the file's folder may be made (not for staged chunks: theirs is the plan's).
   */
  private async write(rel: string, bytes: Uint8Array, folder = true): Promise<void> {
    const path = join(this.root, rel), tmp = tempDir(this.root, this.plan);
    if (!(await exists(tmp))) throw new VolumeWriteError(this.root, `cannot write ${rel}: the staging area of its run's plan (${this.plan}) is gone: the store was completed, or replaced by a run of another plan`);
    if (folder) await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes, tmp);
  }

  /** The plan's folders in the staging area: its temporaries and one per level for its staged chunks. */
  private async makeStaging(): Promise<void> {
    await mkdir(tempDir(this.root, this.plan), { recursive: true });
    for (let l = 0; l < this.manifest.levels.length; l++) await mkdir(join(this.root, planStaging(this.plan), String(l)), { recursive: true });
  }

  /**
   * Opens (or starts) the run of `manifest` at `root`, refusing a run of another plan unless `fresh`.
   * `table`: the plan's job table (encodeJobTable), written beside the manifest before it; none
   * when the plan was read from the run there (its table is there).
   */
  static async open(root: string, manifest: RunManifest, mode: RunMode, table?: Uint8Array): Promise<StoreRun> {
    const there = await inspect(root);
    if (there === "absent") {
      if (mode === "resume") throw new VolumeWriteError(root, NO_STORE);
      await mkdir(root, { recursive: true });
    } else {
      const existing = await readManifest(root);
      if (existing === undefined || planKey(existing) !== planKey(manifest)) {
        const what = existing ? `holds a run (${MANIFEST_NAME}) planned for another input or other settings` : `holds no run manifest (${MANIFEST_NAME})`;
        if (mode === "resume") throw new VolumeWriteError(root, notResumable(what));
        const replaceable = existing !== undefined || there === "empty" || there === "store";
        if (!replaceable) throw new VolumeWriteError(root, "exists, is not empty and is not a zarr store; refusing to overwrite it");
        if (mode === "share" && there !== "empty") throw new VolumeWriteError(root, `${what}; a --blocks run writes a new store or joins a run of the same plan`);
        if (mode === "fresh" && there !== "empty") { await rm(root, { recursive: true, force: true }); await mkdir(root, { recursive: true }); }
      }
    }
    const run = new StoreRun(root, manifest);
    await run.makeStaging();
    // the table first: a manifest once published always has its table (the same bytes for every run of the plan)
    if (table) await run.write(jobTableName(run.plan), table);
    await publishManifest(root, manifest, run.plan, table !== undefined);
    return run;
  }

  /** The run's jobs, read one by one from its table file (nothing per job is held). */
  jobs(): JobTable {
    return fileJobTable(this.root, this.manifest, this.plan);
  }

  /**
   * Joins the run a coordinator opened at `root` (a queue worker): its plan is the manifest there,
   * so the worker needs no planning pass of its own.
   */
  static async attach(root: string): Promise<StoreRun> {
    const m = await readManifest(root);
    if (!m) throw new VolumeWriteError(root, `holds no run manifest (${MANIFEST_NAME}): the run is opened by vmg compress … --queue before its jobs are queued, and every worker must see the store at this path`);
    return new StoreRun(root, m);
  }

  /**
   * The identity of the manifest file at `root` (undefined: none): a re-plan or the store's
   * completion writes a new file, so while the stamp stays the same a reader may keep what it
   * parsed (a queue worker's jobs then cost the same whatever the run's size).
   */
  static async stamp(root: string): Promise<string | undefined> {
    try {
      const s = await stat(join(root, MANIFEST_NAME), { bigint: true });
      return [s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(":");
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT" || (e as { code?: string }).code === "ENOTDIR") return undefined;
      throw new VolumeWriteError(root, `cannot inspect ${MANIFEST_NAME} (${(e as Error).message})`, { cause: e });
    }
  }

  /** Whether some run has written the whole store (the manifest says so). */
  async complete(): Promise<boolean> {
    return (await readManifest(this.root))?.complete === true;
  }

  async staged(j: JobPlace): Promise<boolean> {
    return (await inspect(join(this.root, stagedPath(this.plan, j)))) !== "absent";
  }

  /** A finished chunk (an empty file: absent, the fill value). */
  async stage(j: JobPlace, bytes: Uint8Array | undefined): Promise<void> {
    await this.write(stagedPath(this.plan, j), bytes ?? new Uint8Array(0), false);
  }

  /**
   * Assembles every shard whose chunks are all staged and whose file is not there yet; `ready` when
   * every shard is assembled (or holds only absent chunks, so it has no file).
   */
  async assemble(shards: Iterable<PlannedShard>): Promise<{ assembled: number; ready: boolean }> {
    let assembled = 0, ready = true;
    for (const s of shards) {
      const file = join(this.root, s.path);
      if ((await inspect(file)) !== "absent") continue;
      const inner = await this.stagedChunks(s);
      if (inner === undefined) { ready = false; continue; }
      const shard = buildShard(inner);
      if (!shard) continue;
      await this.write(s.path, shard);
      assembled++;
    }
    return { assembled, ready };
  }

  /** The metadata (levels', then the root's: readers see a store only once it is whole), the manifest marked complete, staging removed. */
  async finish(meta: Map<string, Uint8Array>): Promise<void> {
    const order = [...meta.keys()].sort((a, b) => (a === "/zarr.json" ? 1 : 0) - (b === "/zarr.json" ? 1 : 0));
    for (const k of order) await this.write(k, meta.get(k)!);
    await this.write(MANIFEST_NAME, manifestBytes({ ...this.manifest, complete: true }));
    await this.clearStaging();
  }

  /** Removes the staging area of a complete run (a late duplicate may have staged a chunk after it was cleared). */
  async clearStaging(): Promise<void> {
    // a concurrent late writer can make the removal fail; the next run that sees the store complete clears it
    await rm(join(this.root, STAGING_NAME), { recursive: true, force: true, maxRetries: 2 }).catch(() => {});
  }

  /** A shard's inner chunks from staging, or undefined while one is missing. */
  private async stagedChunks(s: PlannedShard): Promise<Array<Uint8Array | undefined> | undefined> {
    const inner: Array<Uint8Array | undefined> = [];
    for (const k of s.jobs) {
      if (k < 0) { inner.push(undefined); continue; }
      const staged = stagedPath(this.plan, jobPlace(this.manifest.levels, k)!);
      let b: Uint8Array;
      try {
        b = new Uint8Array(await readFile(join(this.root, staged)));
      } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") return undefined; // not fitted yet, or cleared by the run that completed the store
        throw new VolumeWriteError(this.root, `cannot read the staged chunk ${staged} (${(e as Error).message})`, { cause: e });
      }
      inner.push(b.length === 0 ? undefined : b);
    }
    return inner;
  }
}

/**
 * What a store path holds before any run opens it (nothing is written): nothing, an empty directory
 * (or one with only a staging area), a run's manifest, or something else.
 */
export async function peekRun(root: string): Promise<{ there: "absent" | "empty" | "store" | "other"; manifest?: RunManifest }> {
  const there = await inspect(root);
  const manifest = there === "store" ? await readManifest(root) : undefined;
  return manifest ? { there, manifest } : { there };
}

const NO_STORE = "nothing to resume: there is no store there";
const notResumable = (what: string) => `nothing to resume: it ${what}; run with the same input and settings, or without --resume to replace it`;

/** Refuses a resume where there is no run at all, as opening it would, but before any planning pass. */
export async function assertResumable(root: string): Promise<void> {
  const { there, manifest } = await peekRun(root);
  if (there === "absent") throw new VolumeWriteError(root, NO_STORE);
  if (!manifest) throw new VolumeWriteError(root, notResumable(`holds no run manifest (${MANIFEST_NAME})`));
}

/** A plan's identity, short: the hash of its manifest (progress aside). */
export function planId(m: RunManifest): string {
  return createHash("sha256").update(planKey(m)).digest("hex").slice(0, 16);
}

function tempDir(root: string, plan: string): string {
  return join(root, planStaging(plan), "tmp");
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return false;
    throw new VolumeWriteError(path, `cannot inspect the run's staging area (${(e as Error).message})`, { cause: e });
  }
}

/** What is at a path: nothing, an empty directory, a directory holding a zarr store, or something else. */
async function inspect(path: string): Promise<"absent" | "empty" | "store" | "other"> {
  let info;
  try {
    info = await lstat(path);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return "absent";
    throw new VolumeWriteError(path, `cannot inspect the output path (${(e as Error).message})`, { cause: e });
  }
  if (!info.isDirectory()) return "other";
  // hidden names are temporary files, and a staging area or job table without a manifest is a run publishing its manifest now
  const entries = (await readdir(path)).filter((n) => !n.startsWith(".") && n !== STAGING_NAME && (n === MANIFEST_NAME || !isRunFile(n)));
  if (entries.length === 0) return "empty";
  return entries.some((n) => n === "zarr.json" || n === ".zarray" || n === MANIFEST_NAME) ? "store" : "other";
}

async function readManifest(root: string): Promise<RunManifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(root, MANIFEST_NAME), "utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT" || (e as { code?: string }).code === "ENOTDIR") return undefined;
    throw new VolumeWriteError(root, `cannot read ${MANIFEST_NAME} (${(e as Error).message})`, { cause: e });
  }
  try {
    return checkManifest(JSON.parse(text));
  } catch (e) {
    throw new VolumeWriteError(root, `${MANIFEST_NAME} is not a run manifest (${(e as Error).message})`, { cause: e });
  }
}

/** Writes the manifest unless a run already has (link refuses an existing name); then that one must be the same plan. */
/**
 * Publishes `m` unless a manifest is there (then it must be of the same plan). `wroteTable`: this
 * run wrote the plan's table; it is removed only when another plan's manifest refuses this one
 * (that run never reads it). On any other failure it stays: a live run of the same plan may read it.
 */
async function publishManifest(root: string, m: RunManifest, plan: string, wroteTable: boolean): Promise<void> {
  const path = join(root, MANIFEST_NAME);
  const tmp = tempName(join(tempDir(root, plan), MANIFEST_NAME), "tmp");
  await writeFile(tmp, manifestBytes(m));
  try {
    await link(tmp, path);
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") throw new VolumeWriteError(root, `cannot write ${MANIFEST_NAME} (${(e as Error).message})`, { cause: e });
    const other = await readManifest(root);
    if (other && planKey(other) !== planKey(m) && wroteTable) await unlink(join(root, jobTableName(plan))).catch(() => {});
    if (!other || planKey(other) !== planKey(m)) throw new VolumeWriteError(root, `${MANIFEST_NAME} was written by a run planned for another input or other settings; every run of a store must be given the same input and settings`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
