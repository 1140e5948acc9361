/**
 * What both halves of the `volmicro.gaussians` codec in Neuroglancer's zarr datasource share
 * (docs/vmg-zarr-codec.md): Neuroglancer's data type as our dtype, and the
 * async-computation request a chunk's CPU decode runs as (off the chunk worker, as blosc does),
 * and the resolved configuration the decode half receives.
 */
import { asyncComputation } from "neuroglancer/unstable/async_computation/index.js";
import { DataType } from "neuroglancer/unstable/util/data_type.js";
import type { DType, VoxelArray } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import { chunkDType, type GaussianCodecConfig } from "../store/codec/config.js";
import type { CpuKernel, DecodeMode } from "./base.js";

/** Neuroglancer's data type (an enum) as the codec's dtype, or CodecConfigurationError (e.g. uint64). */
export function ngDType(dataType: DataType): DType {
  return chunkDType((DataType[dataType] ?? String(dataType)).toLowerCase());
}

/**
 * The configuration the main-thread half hands the decode half: the store's, plus the decode
 * mode in force on the page (`?vmgDecode=`, url.ts), since the codec API carries nothing else.
 */
export type ResolvedGaussianConfig = GaussianCodecConfig & { decode: DecodeMode };

/** The user timing measure of each chunk's decode in the chunk worker (call to result; DevTools and bench:store-profile show it). */
export const DECODE_MEASURE = "volmicro.gaussians decode";

/**
 * Starts a pool worker ahead of the first chunk (gaussian-codec-warm.ts) and has it decode a
 * synthetic chunk of the store's dtype and configuration (gaussian-codec-jit.ts); answers the
 * decodes it made.
 */
export const warmGaussianPool = asyncComputation<(dtype: DType, config: GaussianCodecConfig) => number>("volmicro/zarr/warm");

/** One chunk's voxels, C order, decoded on a pool worker, and the decode's milliseconds there; errors come back as WireErrors. */
export const decodeGaussianChunkOnPool = asyncComputation<
  (bytes: Uint8Array, shape: Shape3, dtype: DType, config: GaussianCodecConfig) => { data: VoxelArray; ms: number; kernel: CpuKernel }
>("volmicro/zarr/decodeGaussianChunk");
