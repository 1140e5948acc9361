/**
 * What both halves of the `volmicro.gaussians` codec in Neuroglancer's zarr datasource share
 * (docs/vmg-zarr-codec.md): Neuroglancer's data type as our dtype, and the
 * async-computation request a chunk's CPU decode runs as (off the chunk worker, as blosc does).
 */
import { asyncComputation } from "neuroglancer/unstable/async_computation/index.js";
import { DataType } from "neuroglancer/unstable/util/data_type.js";
import type { DType, VoxelArray } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import { chunkDType, type GaussianCodecConfig } from "../store/codec/config.js";

/** Neuroglancer's data type (an enum) as the codec's dtype, or CodecConfigurationError (e.g. uint64). */
export function ngDType(dataType: DataType): DType {
  return chunkDType((DataType[dataType] ?? String(dataType)).toLowerCase());
}

/** One chunk's voxels, C order, decoded on a pool worker; errors come back as WireErrors. */
export const decodeGaussianChunkOnPool = asyncComputation<
  (bytes: Uint8Array, shape: Shape3, dtype: DType, config: GaussianCodecConfig) => VoxelArray
>("volmicro/zarr/decodeGaussianChunk");
