/**
 * The store run's downsampled levels on disk (docs/vmg-zarr-codec.md § 6.3): level k ≥ 1 as a plain
 * zarr v3 array (zarr-chunks.ts) at `volmicro-staging/levels/<k>` in the store's chunk grid, each
 * chunk written whole under a temporary name and renamed, each level's `zarr.json` once every
 * level's chunks are there. A block job
 * of any level then reads its block (chunk plus halo) through zarrita, without the volume. Every
 * file has one possible content, so runs writing the same scratch at once write identical bytes.
 * A planning walk, which runs before its plan is known to be the run's, writes a private copy
 * instead (privateWriter), moved into place only once the run has accepted its manifest.
 */
import { randomBytes } from "node:crypto";
import { access, mkdir, rename, rm, rmdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Box } from "../core/background.js";
import type { DType } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import { VolumeWriteError } from "../io/errors.js";
import type { VolumeSource } from "../io/region.js";
import { openZarrVolume } from "../io/zarr.js";
import { STAGING_NAME } from "../store/manifest.js";
import type { LevelPlan } from "../store/plan.js";
import { walkPyramid } from "../store/pyramid.js";
import { writeFileAtomic } from "./atomic-write.js";
import { FileSystemStore } from "./fs-store.js";
import { ZarrChunkWriter } from "./zarr-chunks.js";

export interface ScratchWriter {
  put(level: number, chunk: Shape3, v: Volume): Promise<void>;
  finish(): Promise<void>;
}

/** A scratch written aside: published once its run is open, or discarded (a failed or refused task). */
export interface PrivateScratch extends ScratchWriter {
  /** Moves the levels into the scratch's place; when another task's (identical) levels are there already, removes its own. */
  publish(): Promise<void>;
  /** Removes what this writer wrote, and the store path and its staging folder if it made them and they hold nothing else. */
  discard(): Promise<void>;
}

export class LevelScratch {
  private readonly dir: string;
  private readonly tmp: string;

  constructor(readonly root: string, readonly levels: LevelPlan[], readonly dtype: DType, readonly chunk: number) {
    this.dir = join(root, STAGING_NAME, "levels");
    this.tmp = join(root, STAGING_NAME, "tmp");
  }

  /** Whether every level ≥ 1 is there whole (its zarr.json is written last). */
  async complete(): Promise<boolean> {
    for (let l = 1; l < this.levels.length; l++) {
      try { await access(join(this.dir, String(l), "zarr.json")); } catch { return false; }
    }
    return true;
  }

  /** Writes levels 1 … from level 0 read block by block through `read` (unless a run already has). */
  async build(read: (box: Box) => Promise<Volume>): Promise<void> {
    if (this.levels.length < 2 || (await this.complete())) return;
    const w = this.writer();
    await walkPyramid(read, this.levels, this.chunk, (l, c, v) => w.put(l, c, v));
    await w.finish();
  }

  /**
   * A writer of the levels as a pyramid walk makes them (whoever walks the pyramid anyway, such as
   * the planning pass, writes them on the way): `put` every chunk (level 0's are ignored), then
   * `finish`, which makes the scratch complete.
   */
  writer(): ScratchWriter {
    return this.writerAt(this.dir, this.tmp, mkdir(this.tmp, { recursive: true }));
  }

  /**
   * A writer like `writer()` into a folder of its own beside the scratch (`levels.<random>`), so a
   * task that turns out not to be the run's (another input, a failed walk) harms no other task.
   */
  privateWriter(): PrivateScratch {
    const dir = `${this.dir}.${randomBytes(8).toString("hex")}`, tmp = join(dir, "tmp");
    // the first folder this writer made (mkdir says which): the store path or its staging folder, when this task made them
    const made = mkdir(tmp, { recursive: true });
    const w = this.writerAt(dir, tmp, made);
    let finished = false;
    const discard = async () => {
      const first = await made.then((p) => p && resolve(p), () => undefined);
      await rm(dir, { recursive: true, force: true });
      const root = resolve(this.root), staging = join(root, STAGING_NAME);
      const ours = first === root ? [staging, root] : first === staging ? [staging] : [];
      // non-recursive: a folder another task has written into meanwhile stays
      for (const d of ours) await rmdir(d).catch(() => {});
    };
    return {
      put: w.put,
      finish: async () => { await w.finish(); finished = true; },
      discard,
      publish: async () => {
        if (!finished) return discard();
        await rm(tmp, { recursive: true, force: true });
        try {
          await rename(dir, this.dir);
        } catch (e) {
          const code = (e as { code?: string }).code;
          await rm(dir, { recursive: true, force: true });
          if (code !== "ENOTEMPTY" && code !== "EEXIST") throw new VolumeWriteError(this.root, `cannot publish the levels written while planning (${(e as Error).message})`, { cause: e }); // EEXIST: another task published first, theirs is identical
        }
      },
    };
  }

  private writerAt(dir: string, tmp: string, ready: Promise<unknown>): ScratchWriter {
    const n = this.chunk;
    const writers = this.levels.map((l, i) => new ZarrChunkWriter((rel, bytes) => this.put(dir, tmp, `${i}/${rel}`, bytes), l.shape, this.dtype, [n, n, n]));
    return {
      put: async (l, c, v) => { if (l > 0) { await ready; await writers[l]!.write(c, v); } },
      finish: async () => { await ready; for (const w of writers.slice(1)) await w.finish(); },
    };
  }

  /** Level `l` (≥ 1) as a source of region reads; an absent chunk is an error (the scratch was removed or damaged). */
  source(l: number): Promise<VolumeSource> {
    const dir = join(this.dir, String(l));
    return openZarrVolume(new FileSystemStore(dir), dir, { strict: true });
  }

  private async put(dir: string, tmp: string, rel: string, bytes: Uint8Array): Promise<void> {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes, tmp);
  }
}
