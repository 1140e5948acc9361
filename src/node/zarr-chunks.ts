/**
 * A plain zarr v3 array written a chunk at a time (for arrays too large to hold): each chunk padded
 * to the full chunk with the fill value 0 (zarr's edge chunks are whole), little-endian, gzip level
 * 1 (these arrays are working copies, read back a few times), handed to `put` under its key; the
 * array's `zarr.json` by `finish`, once its chunks are all written. Readers: io/zarr.ts.
 */
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { allocVoxels, type DType } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import { littleEndianBytes, zarrV3ArrayMetadata } from "../io/zarr.js";

const gzipAsync = promisify(gzip);
const GZIP_LEVEL = 1;

/** Writes a file of the array (its path relative to the array's folder, "/"-separated) whole. */
export type PutFile = (rel: string, bytes: Uint8Array) => Promise<void>;

export class ZarrChunkWriter {
  constructor(private readonly put: PutFile, readonly shape: Shape3, readonly dtype: DType, readonly chunk: Shape3) {}

  /** Chunk `c` (grid position [z, y, x]) from its voxels `v`, the chunk clipped to the array. */
  async write(c: Shape3, v: Volume): Promise<void> {
    const [cz, cy, cx] = this.chunk, [vz, vy, vx] = v.shape;
    const full = allocVoxels(v.dtype, cz * cy * cx);
    for (let z = 0; z < vz; z++) for (let y = 0; y < vy; y++) full.set(v.data.subarray((z * vy + y) * vx, (z * vy + y + 1) * vx) as never, (z * cy + y) * cx);
    await this.put(`c/${c.join("/")}`, new Uint8Array(await gzipAsync(littleEndianBytes(full), { level: GZIP_LEVEL })));
  }

  async finish(): Promise<void> {
    await this.put("zarr.json", zarrV3ArrayMetadata(this.shape, this.dtype, this.chunk, GZIP_LEVEL));
  }
}
