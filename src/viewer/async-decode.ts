/**
 * CPU chunk decode on Neuroglancer's async-computation worker pool, so CPU decodes run in
 * parallel and never block the chunk worker. Pool workers are picked arbitrarily, so a request
 * first goes without the file; a worker that has not seen it answers `missing` and the request is
 * repeated with the bytes, which that worker then keeps (a few files, least recently used out).
 */
import { asyncComputation } from "neuroglancer/unstable/async_computation/index.js";
import type { Box } from "../core/background.js";
import type { VoxelArray } from "../core/dtype.js";

/** `ms`: the decode itself, on the pool worker (not the wait for a free worker). */
export type AsyncDecodeResult = { missing: true } | { missing: false; data: VoxelArray; ms: number };

export const decodeCpuChunk = asyncComputation<
  (url: string, bytes: Uint8Array | null, box: Box, level: number) => AsyncDecodeResult
>("volmicro/vmg/decodeCpuChunk");
