/**
 * A `.vmg` file in the browser: fetched once per URL (in this realm), parsed, with its CPU decoder
 * and, on demand, its WebGPU decoder. Parsed files live in a cache bounded in bytes (file bytes,
 * kernels, spatial indexes, GPU buffers): those no layer holds are evicted least recently used
 * first, their GPU buffers destroyed. Also picks the decode path for a requested mode. Has no
 * Neuroglancer imports: the worker backend and the page's test hooks share it.
 */
import type { Box } from "../core/background.js";
import type { VoxelArray } from "../core/dtype.js";
import { fetchBytes } from "../io/http-store.js";
import { ByteCache } from "./byte-cache.js";
import { VmgDecoder, levelFactors } from "../decode/decoder.js";
import { readVmg } from "../format/vmg.js";
import type { DecodeMode, DecodePath, VmgInfo } from "./base.js";
import { getGpu, gpuUnavailable, type GpuContext } from "../gpu/device.js";
import { GpuDecodeError, GpuVmgDecoder } from "../gpu/gpu-decoder.js";


export interface LoadedVmg {
  info: VmgInfo;
  bytes: Uint8Array;
  cpu: VmgDecoder;
  /** The WebGPU decoder, or why there is none. */
  gpu(): Promise<GpuVmgDecoder | string>;
  /** The GPU failed (its device was lost): decode this file on the CPU from now on, `reason` saying why. */
  dropGpu(reason: string): void;
  /** Bytes this file keeps alive: its bytes, the CPU decoder's kernels and indexes, its GPU buffers. */
  heldBytes(): number;
  /** Free the GPU buffers (the file left the cache); returns their bytes. */
  release(): number;
}

/** What the cache holds and what it let go, for the layer tab's tests. */
export interface FileCacheState {
  maxBytes: number;
  bytes: number;
  entries: Array<{ url: string; bytes: number; held: boolean }>;
  released: Array<{ url: string; bytes: number; gpuBytes: number }>;
}

/** Default bound on what parsed files keep alive in one realm. */
export const FILE_CACHE_BYTES = 1 << 30;

const loading = new Map<string, Promise<LoadedVmg>>();
let cacheMax = FILE_CACHE_BYTES;
const released: FileCacheState["released"] = [];
const cache = new ByteCache<LoadedVmg>(cacheMax, (url, f) => {
  const bytes = f.heldBytes();
  released.push({ url, bytes, gpuBytes: f.release() });
  if (released.length > 64) released.shift();
});

/** The files the page's layers show now: they stay cached, the others become evictable. */
export function holdOnlyVmg(urls: string[]): void {
  cache.holdOnly(urls);
}

/** Re-estimate a file's bytes after use (scales prepared, buffers uploaded grow it); not if it was evicted meanwhile. */
export function noteVmgUse(file: LoadedVmg): void {
  if (cache.peek(file.info.url) === file) cache.resize(file.info.url, file.heldBytes());
}

export function fileCacheState(maxBytes?: number): FileCacheState {
  if (maxBytes !== undefined && maxBytes !== null) cache.setMaxBytes((cacheMax = maxBytes));
  const entries = cache.list().map(({ key, bytes, held }) => ({ url: key, bytes, held }));
  return { maxBytes: cacheMax, bytes: cache.bytes, entries, released: [...released] };
}

/** Short name for messages: data: URLs are long. */
export function displayName(url: string): string {
  return url.startsWith("data:") ? `${url.slice(0, 40)}… (${url.length} characters)` : url;
}

/** Fetch and parse `url`, once while cached; a failure is not cached, so a retry fetches again. */
export function loadVmg(url: string): Promise<LoadedVmg> {
  const hit = cache.get(url);
  if (hit) return Promise.resolve(hit);
  let p = loading.get(url);
  if (!p) {
    p = fetchAndParse(url);
    loading.set(url, p);
    p.then((f) => cache.set(url, f, f.heldBytes()), () => undefined).finally(() => loading.delete(url));
  }
  return p;
}

async function fetchAndParse(url: string): Promise<LoadedVmg> {
  const name = displayName(url);
  const bytes = await fetchBytes(url, name);
  const cpu = new VmgDecoder(readVmg(bytes, { file: name }));
  const h = cpu.file.header;
  const info: VmgInfo = {
    url, bytes: bytes.length, count: cpu.file.count,
    shape: [...h.shape], voxelSize: [...h.voxelSize], unit: h.unit, origin: [...h.origin], dtype: h.dtype,
    valueOffset: h.valueOffset, valueScale: h.valueScale, truncation: h.truncation, encoding: h.encoding,
  };
  let gpu: Promise<GpuVmgDecoder | string> | undefined;
  let gpuDecoder: GpuVmgDecoder | undefined;
  return {
    info,
    bytes,
    cpu,
    gpu: () => (gpu ??= getGpu().then((ctx) => (ctx ? (gpuDecoder = new GpuVmgDecoder(ctx, cpu)) : gpuUnavailable()))),
    dropGpu: (reason) => {
      const dropped = gpu;
      gpu = Promise.resolve(reason);
      gpuDecoder = undefined;
      void dropped?.then((d) => {
        if (typeof d === "string") return; // dropped already (chunks in flight fail one by one)
        console.warn(`volmicro: ${name}: ${reason}`);
        d.destroy();
      });
    },
    heldBytes: () => bytes.byteLength + cpu.bytes() + (gpuDecoder?.gpuBytes() ?? 0),
    release: () => {
      const freed = gpuDecoder?.gpuBytes() ?? 0;
      gpuDecoder?.destroy();
      return freed;
    },
  };
}

export interface ChunkDecode {
  data: VoxelArray;
  path: DecodePath;
  reason: string;
  /** Milliseconds of the decode itself (no queueing, no per-scale setup). */
  ms: number;
}

export interface TimedDecode {
  data: VoxelArray;
  ms: number;
}

/** A CPU decode; `signal` (the chunk request's) drops it while queued and stops it between kernels. */
export type CpuDecode = (file: LoadedVmg, box: Box, level: number, signal?: AbortSignal) => Promise<TimedDecode>;

/** Decode on this thread with the file's own CPU decoder. */
export const decodeHere: CpuDecode = async (file, box, level, signal) => {
  const factors = levelFactors(level);
  file.cpu.scale(factors);
  const t0 = performance.now();
  const data = file.cpu.decode(box, factors, undefined, undefined, signal);
  return { data, ms: performance.now() - t0 };
};

/**
 * Why `mode` decodes on the CPU, given this realm's GPU (a context, or why there is none);
 * undefined when the GPU decodes. "auto" also takes the CPU when the only adapter is a software
 * fallback (SwiftShader on a machine without a GPU): it computes the same function but about
 * 3-100× slower than the CPU decoder, which would delay the first frame by minutes. "webgpu" uses
 * any adapter. Shared by `.vmg` files and store chunks (gaussian-codec-decode.ts).
 */
export function cpuReason(mode: DecodeMode, gpu: GpuContext | string): string | undefined {
  if (mode === "cpu") return "cpu requested";
  if (typeof gpu === "string") return `${mode}: ${gpu}`;
  if (mode === "auto" && gpu.fallback) return `auto: ${gpu.adapter} is a software fallback adapter, slower than the CPU decoder`;
  return undefined;
}

/**
 * Decode `box` of scale `level` by the path `mode` asks for (`cpuReason`); "auto" and "webgpu"
 * fall back to the CPU when there is no adapter (the reason says so). When the GPU fails (a lost
 * device), this chunk and every later one of the file decode on the CPU, the reason saying so. An
 * aborted `signal` (Neuroglancer cancelled the chunk) drops the decode before it runs and rejects
 * with its AbortError.
 */
export async function decodeChunk(
  file: LoadedVmg, box: Box, level: number, mode: DecodeMode, cpu: CpuDecode = decodeHere, signal?: AbortSignal,
): Promise<ChunkDecode> {
  signal?.throwIfAborted();
  const gpu = mode === "cpu" ? "cpu requested" : await file.gpu();
  signal?.throwIfAborted();
  const why = cpuReason(mode, typeof gpu === "string" ? gpu : gpu.gpu);
  if (why !== undefined || typeof gpu === "string") return { ...await cpu(file, box, level, signal), path: "cpu", reason: why ?? `${mode}: ${gpu}` };
  try {
    return { ...await gpu.decodeTimed(box, levelFactors(level), signal), path: "webgpu", reason: `${mode}: ${gpu.gpu.adapter}` };
  } catch (e) {
    if (!(e instanceof GpuDecodeError)) throw e;
    const reason = `${e.message}; decoding on the CPU`;
    file.dropGpu(reason);
    return { ...await cpu(file, box, level, signal), path: "cpu", reason: `${mode}: ${reason}` };
  }
}
