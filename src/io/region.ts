/**
 * A volume opened for region reads: its shape, type and calibration up front, and the voxels of any
 * half-open box on demand, so a caller that works block by block never holds the whole volume.
 * Readers: zarr (io/zarr.ts: only the chunks a box touches), TIFF stacks (io/tiff.ts: only the pages
 * of the box's z range, and of those only the strips or tiles its rows and columns touch) and a
 * volume already in memory (`memorySource`). Browser-safe.
 */
import type { Box } from "../core/background.js";
import { allocVoxels, type DType } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";

export interface VolumeSource {
  /** The path or URL, for messages. */
  name: string;
  shape: Shape3;
  dtype: DType;
  voxelSize?: [number, number, number];
  unit?: string;
  /** Position [z, y, x] of voxel (0, 0, 0)'s centre, in `unit`. */
  origin?: [number, number, number];
  /** The source's own voxel type when reading converts it (float64 read as float32). */
  convertedFrom?: "float64";
  /** The voxels of `box` (x fastest), with the calibration of the box (its origin at the box's corner). */
  read(box: Box, signal?: AbortSignal): Promise<Volume>;
}

export function wholeBox(shape: Shape3): Box {
  return { z0: 0, z1: shape[0], y0: 0, y1: shape[1], x0: 0, x1: shape[2] };
}

/** Refuses a box that is empty or reaches outside `shape` (a caller's bug, not bad input). */
export function checkBox(box: Box, shape: Shape3, name: string): void {
  const ok = (lo: number, hi: number, n: number) => Number.isInteger(lo) && Number.isInteger(hi) && lo >= 0 && lo < hi && hi <= n;
  if (!ok(box.z0, box.z1, shape[0]) || !ok(box.y0, box.y1, shape[1]) || !ok(box.x0, box.x1, shape[2])) {
    throw new RangeError(`${name}: box z ${box.z0}:${box.z1}, y ${box.y0}:${box.y1}, x ${box.x0}:${box.x1} is empty or outside the shape ${shape.join("x")}`);
  }
}

export function boxShape(box: Box): Shape3 {
  return [box.z1 - box.z0, box.y1 - box.y0, box.x1 - box.x0];
}

/** The calibration of a box of `source`: its voxel size and unit, and its corner as origin. */
export function boxCalibration(source: Pick<VolumeSource, "voxelSize" | "unit" | "origin">, box: Box): Pick<Volume, "voxelSize" | "unit" | "origin"> {
  const out: Pick<Volume, "voxelSize" | "unit" | "origin"> = {};
  if (source.voxelSize) out.voxelSize = [...source.voxelSize];
  if (source.unit) out.unit = source.unit;
  if (source.origin) {
    const s = source.voxelSize ?? [1, 1, 1], o = source.origin;
    out.origin = [o[0] + box.z0 * s[0], o[1] + box.y0 * s[1], o[2] + box.x0 * s[2]];
  }
  return out;
}

/** Copies `box` out of a volume held in memory (x-runs, no per-voxel work). */
export function cutBox(v: Pick<Volume, "shape" | "dtype" | "data">, box: Box): Volume {
  const shape = boxShape(box);
  const [, ny, nx] = v.shape;
  const data = allocVoxels(v.dtype, shape[0] * shape[1] * shape[2]);
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) {
    const s = ((box.z0 + z) * ny + box.y0 + y) * nx + box.x0;
    data.set(v.data.subarray(s, s + shape[2]) as never, (z * shape[1] + y) * shape[2]);
  }
  return { shape, dtype: v.dtype, data };
}

/** A volume in memory as a source (for callers that already hold it, and for tests). */
export function memorySource(v: Volume, name: string): VolumeSource {
  const s: VolumeSource = {
    name, shape: v.shape, dtype: v.dtype,
    read: async (box, signal) => {
      signal?.throwIfAborted();
      checkBox(box, v.shape, name);
      return { ...cutBox(v, box), ...boxCalibration(v, box) };
    },
  };
  if (v.voxelSize) s.voxelSize = v.voxelSize;
  if (v.unit) s.unit = v.unit;
  if (v.origin) s.origin = v.origin;
  if (v.sourceDType === "float64") s.convertedFrom = "float64";
  return s;
}
