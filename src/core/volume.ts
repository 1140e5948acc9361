import type { DType, VoxelArray } from "./dtype.js";
import type { Shape3 } from "./gaussian.js";

/** A dense volume in memory: [z, y, x] shape, x fastest. */
export interface Volume {
  shape: Shape3;
  dtype: DType;
  data: VoxelArray;
  /** Physical voxel size in [z, y, x] order and its unit, when the source states them. */
  voxelSize?: [number, number, number];
  unit?: string;
  /** Physical position [z, y, x] of the centre of voxel (0, 0, 0), in `unit`, when the source states it. */
  origin?: [number, number, number];
  /** The source's own voxel type when reading converted it (float64 sources read as float32). */
  sourceDType?: string;
}

export function voxelCount(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}
