/**
 * Writing volumes so that a reader never sees a half-written file: data goes to a temporary
 * name in the target's directory (same filesystem, so `rename` is atomic) and is renamed into
 * place; the temporary is removed on any failure.
 *
 * Zarr outputs are directories. They are written to a temporary directory and renamed into
 * place. An existing *zarr store* (zarr.json, .zarray or .zgroup at its top) or empty directory
 * at the target is replaced: it is first renamed aside, then deleted once the new store is in
 * place (restored if the swap fails), so there is a moment where the path does not exist. Any
 * other existing file or non-empty directory is refused, so a typo cannot wipe unrelated data.
 * Chunk files are not fsynced one by one (that is for crash durability, not atomic visibility).
 */
import { lstat, mkdir, open, readdir, rename, rm, rmdir, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import type { VoxelArray } from "../core/dtype.js";
import type { Volume } from "../core/volume.js";
import { VolumeWriteError } from "../io/errors.js";
import { tiffPlanes, tiffStackHeader } from "../io/tiff-write.js";
import type { ZarrWriteOptions } from "../io/zarr.js";
import { FileSystemStore } from "./fs-store.js";

/**
 * A file written under a temporary name (beside `path`, or in `tmpDir` on the same filesystem)
 * and renamed into place by `commit`. Writes are positional and may be in flight together (a
 * decode writes each slab as it is done); the first failure is kept and thrown by `commit`.
 */
export class AtomicFile {
  private pending: Promise<void>[] = [];
  private failure: unknown;

  private constructor(readonly path: string, private readonly tmp: string, private readonly fh: FileHandle) {}

  static async open(path: string, tmpDir?: string): Promise<AtomicFile> {
    const tmp = tempName(tmpDir === undefined ? path : join(tmpDir, basename(path)), "tmp");
    try {
      return new AtomicFile(path, tmp, await open(tmp, "wx", 0o666));
    } catch (e) {
      throw new VolumeWriteError(path, `cannot write file (${errText(e)})`, { cause: e });
    }
  }

  /** `bytes` at byte `position`; `bytes` must stay unchanged until `commit`. */
  write(bytes: Uint8Array, position: number): void {
    const all = async () => {
      for (let done = 0; done < bytes.byteLength;) done += (await this.fh.write(bytes, done, bytes.byteLength - done, position + done)).bytesWritten;
    };
    this.pending.push(all().catch((e: unknown) => { this.failure ??= e; }));
  }

  /** Waits for the writes, syncs, and renames the file into place (removed instead if a write failed). */
  async commit(): Promise<void> {
    try {
      await Promise.all(this.pending);
      if (this.failure !== undefined) throw this.failure;
      await this.fh.sync();
      await this.fh.close();
      await rename(this.tmp, this.path);
    } catch (e) {
      await this.abort();
      throw new VolumeWriteError(this.path, `cannot write file (${errText(e)})`, { cause: e });
    }
    await syncDir(dirname(this.path));
  }

  /** Removes the temporary file (after any writes in flight). */
  async abort(): Promise<void> {
    await Promise.all(this.pending);
    await this.fh.close().catch(() => {});
    await unlink(this.tmp).catch(() => {});
  }
}

/** `bytes` at `path`, written under a temporary name (beside it, or in `tmpDir` on the same filesystem) and renamed. */
export async function writeFileAtomic(path: string, bytes: Uint8Array, tmpDir?: string): Promise<void> {
  const file = await AtomicFile.open(path, tmpDir);
  file.write(bytes, 0);
  await file.commit();
}

/** The output format a path's extension names, or undefined. */
export function volumeFormat(path: string): "tiff" | "zarr" | undefined {
  const ext = extname(path.replace(/[\\/]+$/, "")).toLowerCase();
  return ext === ".tif" || ext === ".tiff" ? "tiff" : ext === ".zarr" ? "zarr" : undefined;
}

/** Write a `.tif`/`.tiff` (ImageJ-style stack) or `.zarr` (OME-Zarr 0.5, zarr v3) by extension. */
export async function writeVolume(path: string, volume: Volume, opts: ZarrWriteOptions = {}): Promise<void> {
  const clean = path.replace(/[\\/]+$/, "");
  const format = volumeFormat(clean);
  if (format === "tiff") {
    const [nz, ny, nx] = volume.shape;
    if (volume.data.length !== nz * ny * nx) throw new VolumeWriteError(path, `data has ${volume.data.length} voxels but shape ${volume.shape.join("x")} needs ${nz * ny * nx}`);
    const tiff = await openTiffStack(clean, volume);
    tiff.planes(volume.data, 0, nz);
    return tiff.commit();
  }
  if (format === "zarr") return writeZarrDirectory(clean, volume, opts);
  throw new VolumeWriteError(path, "unknown output format; use a .tif, .tiff or .zarr path");
}

export interface TiffStackWriter {
  /** Planes [z0, z1) of `data` (the whole volume's voxels), in any order; `data` must stay unchanged until `commit`. */
  planes(data: VoxelArray, z0: number, z1: number): void;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * A TIFF stack at `path` (ImageJ-style, tiff-write.ts) written as its planes are produced: the
 * header now, each run of planes when it is given, renamed into place by `commit`. A decode
 * writes each slab while it decodes the next, instead of the whole volume after it.
 */
export async function openTiffStack(path: string, meta: Omit<Volume, "data">): Promise<TiffStackWriter> {
  let head: Uint8Array;
  try {
    head = tiffStackHeader(meta);
  } catch (e) {
    if (e instanceof VolumeWriteError) throw new VolumeWriteError(path, e.problem, { cause: e });
    throw e;
  }
  const file = await AtomicFile.open(path);
  file.write(head, 0);
  const planeVoxels = meta.shape[1] * meta.shape[2];
  return {
    planes: (data, z0, z1) => file.write(tiffPlanes(data, planeVoxels, z0, z1), head.length + z0 * planeVoxels * data.BYTES_PER_ELEMENT),
    commit: () => file.commit(),
    abort: () => file.abort(),
  };
}

async function writeZarrDirectory(path: string, volume: Volume, opts: ZarrWriteOptions): Promise<void> {
  const { writeZarrV3 } = await import("../io/zarr.js"); // loaded for zarr output only: a TIFF write needs no zarrita
  await writeStoreAtomic(path, (store) => writeZarrV3(store, volume, opts));
}

/**
 * A zarr store written by `write` into a temporary directory beside `path`, then moved into
 * place (replacing an existing zarr store or empty directory, as described above).
 */
export async function writeStoreAtomic(path: string, write: (store: FileSystemStore) => Promise<void>): Promise<void> {
  const existing = await inspectTarget(path);
  const tmp = tempName(path, "tmp");
  try {
    await mkdir(tmp);
    await write(new FileSystemStore(tmp));
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    if (e instanceof VolumeWriteError) throw new VolumeWriteError(path, e.problem, { cause: e });
    throw new VolumeWriteError(path, `cannot write zarr store (${errText(e)})`, { cause: e });
  }
  try {
    if (existing === "absent") {
      await rename(tmp, path);
    } else if (existing === "empty") {
      await rmdir(path);
      await rename(tmp, path);
    } else {
      const old = tempName(path, "old");
      await rename(path, old);
      try {
        await rename(tmp, path);
      } catch (e) {
        await rename(old, path).catch(() => {});
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw new VolumeWriteError(path, `cannot move the new zarr store into place (${errText(e)})`, { cause: e });
  }
  await syncDir(dirname(path));
}

/** What is at a zarr output path now: nothing, an empty directory, or a zarr store we may replace. */
async function inspectTarget(path: string): Promise<"absent" | "empty" | "zarr"> {
  let info;
  try {
    info = await lstat(path);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return "absent";
    throw new VolumeWriteError(path, `cannot inspect the output path (${errText(e)})`, { cause: e });
  }
  if (!info.isDirectory()) throw new VolumeWriteError(path, "exists and is not a directory; refusing to replace it with a zarr store");
  const entries = await readdir(path);
  if (entries.length === 0) return "empty";
  if (entries.some((n) => n === "zarr.json" || n === ".zarray" || n === ".zgroup")) return "zarr";
  throw new VolumeWriteError(path, "exists, is not empty and is not a zarr store; refusing to overwrite it");
}

let tempCount = 0;

/**
 * A hidden name beside `path`, unique to this process and call (concurrent writers never share
 * one: the pid, a count, and a random part for hosts sharing a filesystem). Not node:crypto's
 * random bytes: importing that module measured ~4 ms of CPU, paid by every `vmg decode`.
 */
export function tempName(path: string, kind: string): string {
  const random = Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, "0");
  return join(dirname(path), `.${basename(path)}.${process.pid}.${(tempCount++).toString(36)}${random}.${kind}`);
}

/** Persist the rename itself; not every platform lets a directory be fsynced, so best effort. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try { await fh.sync(); } finally { await fh.close(); }
  } catch { /* best effort */ }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
