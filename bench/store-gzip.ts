/**
 * The gzip OME-Zarr baseline of bench:store's streaming figures: the original volume with the
 * Gaussian store's chunking (64³) and level count, levels by the same 2× mean downsampling.
 */
import type { Volume } from "../src/core/volume.js";
import { writeOmeZarrMultiscale } from "../src/io/zarr.js";
import { FileSystemStore } from "../src/node/fs-store.js";
import { downsample2 } from "../src/store/plan.js";
import { STORE_CHUNK } from "./store-quality.js";

/** Writes the gzip OME-Zarr of `v` (named `name`) with `levels` levels at `dir`. */
export async function writeGzipStore(dir: string, v: Volume, levels: number, name: string): Promise<void> {
  const vs = [v];
  while (vs.length < levels) vs.push(downsample2(vs[vs.length - 1]!));
  await writeOmeZarrMultiscale(new FileSystemStore(dir), vs, {
    chunks: [STORE_CHUNK, STORE_CHUNK, STORE_CHUNK], name,
    downscaling: { type: "mean", metadata: { description: "2x mean downsampling (store/plan.ts downsample2), as the Gaussian store's levels" } },
  });
}
