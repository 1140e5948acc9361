/**
 * The volumes the demo can show, from ../shared/data. The default is a block of dense light-sheet
 * axons (TRAILMAP): the kind of data where a zarr store stays large after gzip (zlib ratio about
 * 1.4) and a few kilobytes of Gaussians carry the structure. The block is cut from the middle of
 * the 303³ volume so that the first start (fit included) stays short and the in-viewer
 * "Compress this layer" fit of the same data finishes in about a minute on one CPU thread.
 */
import type { Box } from "../src/core/background.js";

export interface DemoVolume {
  /** File in ../shared/data. */
  file: string;
  /** Name of the cached outputs (demo/data/<name>.zarr, <name>.vmg). */
  name: string;
  /** Half-open z/y/x block to cut from the file; the whole file when absent. */
  crop?: Box;
  /** Default bits per voxel of the `.vmg`. */
  bpp: number;
  /** Fitter steps for the demo's `.vmg`. */
  iterations: number;
  /** Inner chunk edge of the demo's Gaussian store (`vmg compress --chunk`). */
  storeChunk: number;
}

export const DEMO_VOLUMES: Record<string, DemoVolume> = {
  trailmap: {
    file: "trailmap_lightsheet_axons_303x303x303_u16.tif",
    name: "trailmap_axons_block_96x192x192_u16",
    crop: { z0: 104, z1: 200, y0: 56, y1: 248, x0: 56, x1: 248 },
    bpp: 0.073,
    // 200 steps: within 0.05 dB of 300 here, and a first start that stays under 3 minutes on 2 busy cores
    iterations: 200,
    // 2 × 3 × 3 chunks at level 0: the store streams chunk by chunk like a large one
    storeChunk: 64,
  },
  rivuletpy: {
    file: "rivuletpy_neuron_small_51x76x176_u8.tif",
    name: "rivuletpy_neuron_small_51x76x176_u8",
    bpp: 0.25,
    iterations: 300,
    storeChunk: 32,
  },
  diadem: {
    file: "diadem_OP9_crop_92x77x86_u8.tif",
    name: "diadem_OP9_crop_92x77x86_u8",
    bpp: 0.25,
    iterations: 300,
    storeChunk: 32,
  },
};

export const DEFAULT_DEMO_VOLUME = "trailmap";
