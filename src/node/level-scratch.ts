/**
 * The store run's downsampled levels on disk (docs/vmg-zarr-codec.md § 6.3): level k ≥ 1 as a plain
 * zarr v3 array (gzip level 1: it is read back a few times, not kept) at
 * `volmicro-staging/levels/<k>` in the store's chunk grid, each chunk written whole under a
 * temporary name and renamed, each level's `zarr.json` once its chunks are all there. A block job
 * of any level then reads its block (chunk plus halo) through zarrita, without the volume. Every
 * file has one possible content, so runs writing the same scratch at once write identical bytes.
 */
import { access, mkdir } from "node:fs/promises";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { dirname, join } from "node:path";
import type { Box } from "../core/background.js";
import { allocVoxels, type DType } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import type { VolumeSource } from "../io/region.js";
import { littleEndianBytes, openZarrVolume, zarrV3ArrayMetadata } from "../io/zarr.js";
import { STAGING_NAME } from "../store/manifest.js";
import type { LevelPlan } from "../store/plan.js";
import { walkPyramid } from "../store/pyramid.js";
import { writeFileAtomic } from "./atomic-write.js";
import { FileSystemStore } from "./fs-store.js";

const gzipAsync = promisify(gzip);
const GZIP_LEVEL = 1;

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
    await mkdir(this.tmp, { recursive: true });
    await walkPyramid(read, this.levels, this.chunk, (l, c, v) => (l === 0 ? Promise.resolve() : this.writeChunk(l, c, v)));
    const C: Shape3 = [this.chunk, this.chunk, this.chunk];
    for (let l = 1; l < this.levels.length; l++) {
      await this.put(join(String(l), "zarr.json"), zarrV3ArrayMetadata(this.levels[l]!.shape, this.dtype, C, GZIP_LEVEL));
    }
  }

  /** Level `l` (≥ 1) as a source of region reads; an absent chunk is an error (the scratch was removed or damaged). */
  source(l: number): Promise<VolumeSource> {
    const dir = join(this.dir, String(l));
    return openZarrVolume(new FileSystemStore(dir), dir, { strict: true });
  }

  /** One chunk, padded to the full chunk with the fill value (zarr's edge chunks are whole). */
  private async writeChunk(l: number, c: Shape3, v: Volume): Promise<void> {
    const n = this.chunk, [vz, vy, vx] = v.shape;
    const full = allocVoxels(v.dtype, n * n * n);
    for (let z = 0; z < vz; z++) for (let y = 0; y < vy; y++) full.set(v.data.subarray((z * vy + y) * vx, (z * vy + y + 1) * vx) as never, (z * n + y) * n);
    const bytes = new Uint8Array(await gzipAsync(littleEndianBytes(full), { level: GZIP_LEVEL }));
    await this.put(join(String(l), "c", ...c.map(String)), bytes);
  }

  private async put(rel: string, bytes: Uint8Array): Promise<void> {
    const path = join(this.dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes, this.tmp);
  }
}
