/**
 * What the main-thread and worker halves of the `vmg://` datasource share: the chunk source
 * parameters (sent to the worker with each source), RPC names and the decode-path vocabulary.
 * Kept free of Neuroglancer imports so tests and tools can use it too.
 */
import type { VmgHeader } from "../format/vmg.js";

/** How a layer wants its chunks decoded; "auto" is WebGPU when an adapter exists, else CPU. */
export type DecodeMode = "auto" | "cpu" | "webgpu";
/** The path that actually decoded a chunk. */
export type DecodePath = "cpu" | "webgpu";

export const DECODE_MODES: readonly DecodeMode[] = ["auto", "cpu", "webgpu"];

export function isDecodeMode(s: string): s is DecodeMode {
  return (DECODE_MODES as readonly string[]).includes(s);
}

export class VmgSourceParameters {
  /** Absolute URL of the `.vmg` file (http(s), data: or blob:). */
  url = "";
  /** Scale level: factor 2^level on every axis. */
  level = 0;
  decode: DecodeMode = "auto";
  static RPC_ID = "volmicro/vmg/VolumeChunkSource";
}

/** Worker RPC: fetch (once) and parse a file, return its `VmgInfo`. */
export const VMG_INFO_RPC_ID = "volmicro/vmg/info";
/** Test builds only (chunk-worker.ts): the worker's WebGPU device once its request has settled, destroyed unless `keep`. */
export const VMG_TEST_LOSE_GPU_RPC_ID = "volmicro/vmg/testLoseGpu";
/**
 * Worker RPC: the chunk worker's file cache (`FileCacheState`), after setting (when given) its
 * bound in bytes and the files the page's layers show (held: never evicted).
 */
export const VMG_FILE_CACHE_RPC_ID = "volmicro/vmg/fileCache";
/** Worker → main thread: one message per decoded chunk (`ChunkDecodeReport`). */
export const VMG_DECODE_REPORT_RPC_ID = "volmicro/vmg/decodeReport";

/** Worker → main thread: a chunk of a Gaussian store failed (`StoreChunkFailure`); Neuroglancer itself only logs it. */
export const VMG_STORE_CHUNK_FAILURE_RPC_ID = "volmicro/store/chunkFailure";

/** A store chunk's failure as the page learns it: the zarr array's URL and the error's tag and message. */
export interface StoreChunkFailure {
  /** The level array's URL as Neuroglancer's zarr datasource holds it (ends with "/"). */
  url: string;
  /** The error's tag (core/errors.ts), or its name when it is not one of ours. */
  tag: string;
  message: string;
}

/** The header facts the main thread needs to describe the volume (the file's header, plus where it came from). */
export interface VmgInfo extends Omit<VmgHeader, "shape"> {
  url: string;
  bytes: number;
  count: number;
  /** [z, y, x] voxels. */
  shape: [number, number, number];
}

export interface ChunkDecodeReport {
  url: string;
  level: number;
  path: DecodePath;
  /** Why this path was taken (e.g. "no WebGPU adapter"). */
  reason: string;
  voxels: number;
  /** Milliseconds of the decode itself, measured where it ran (pool worker or GPU dispatch). */
  ms: number;
  /** Milliseconds from the request to the result, queueing included. */
  totalMs: number;
  /** CPU decodes: the sampler that ran, the WebAssembly SIMD kernel or the JavaScript fallback. */
  kernel?: CpuKernel;
}

/** The CPU decoder's path in a worker: "wasm" where its WebAssembly kernel is installed. */
export type CpuKernel = "wasm" | "js";
