/**
 * A `.vmg` file in the browser: fetched once per URL (in this realm), parsed, with its CPU decoder
 * and, on demand, its WebGPU decoder. Also picks the decode path for a requested mode. Has no
 * Neuroglancer imports: the worker backend and the page's test hooks share it.
 */
import type { Box } from "../core/background.js";
import type { VoxelArray } from "../core/dtype.js";
import { registerErrorClasses, VmgError } from "../core/errors.js";
import { VmgDecoder, levelFactors } from "../decode/decoder.js";
import { readVmg } from "../format/vmg.js";
import type { DecodeMode, DecodePath, VmgInfo } from "./base.js";
import { getGpu } from "./gpu/device.js";
import { GpuVmgDecoder } from "./gpu/gpu-decoder.js";

/** The file could not be fetched: `status` is the HTTP status of a refused request, `cause` the browser's error otherwise. */
export class VmgFetchError extends VmgError {
  static override readonly tag: string = "viewer/fetch";
  readonly url: string;
  readonly status: number | undefined;
  constructor(url: string, problem: string, options?: { status?: number; cause?: unknown }) {
    super(`${displayName(url)}: ${problem}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.url = url;
    this.status = options?.status;
  }
}
registerErrorClasses(VmgFetchError);

export interface LoadedVmg {
  info: VmgInfo;
  bytes: Uint8Array;
  cpu: VmgDecoder;
  /** The WebGPU decoder, or why there is none. */
  gpu(): Promise<GpuVmgDecoder | string>;
}

const files = new Map<string, Promise<LoadedVmg>>();

/** Short name for messages: data: URLs are long. */
export function displayName(url: string): string {
  return url.startsWith("data:") ? `${url.slice(0, 40)}… (${url.length} characters)` : url;
}

/** Fetch and parse `url`, once; a failure is not cached, so a retry fetches again. */
export function loadVmg(url: string): Promise<LoadedVmg> {
  let p = files.get(url);
  if (!p) {
    p = fetchAndParse(url);
    files.set(url, p);
    p.catch(() => files.delete(url));
  }
  return p;
}

async function fetchAndParse(url: string): Promise<LoadedVmg> {
  const name = displayName(url);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new VmgFetchError(url, `cannot fetch (${(e as Error).message})`, { cause: e });
  }
  if (!res.ok) throw new VmgFetchError(url, `HTTP ${res.status} ${res.statusText}`.trim(), { status: res.status });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const cpu = new VmgDecoder(readVmg(bytes, { file: name }));
  const h = cpu.file.header;
  const info: VmgInfo = {
    url, bytes: bytes.length, count: cpu.file.count,
    shape: [...h.shape], voxelSize: [...h.voxelSize], unit: h.unit, dtype: h.dtype,
    valueOffset: h.valueOffset, valueScale: h.valueScale, truncation: h.truncation, encoding: h.encoding,
  };
  let gpu: Promise<GpuVmgDecoder | string> | undefined;
  return {
    info,
    bytes,
    cpu,
    gpu: () => (gpu ??= getGpu().then((ctx) => (ctx ? new GpuVmgDecoder(ctx, cpu) : "no WebGPU adapter"))),
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
 * Decode `box` of scale `level` by the path `mode` asks for; "auto" and "webgpu" fall back to the
 * CPU when there is no adapter (the reason says so). "auto" also takes the CPU when the only
 * adapter is a software fallback (SwiftShader on a machine without a GPU): it computes the same
 * function but about 3-100× slower than the CPU decoder, which would delay the first frame by
 * minutes. "webgpu" uses any adapter. An aborted `signal` (Neuroglancer cancelled the chunk)
 * drops the decode before it runs and rejects with its AbortError.
 */
export async function decodeChunk(
  file: LoadedVmg, box: Box, level: number, mode: DecodeMode, cpu: CpuDecode = decodeHere, signal?: AbortSignal,
): Promise<ChunkDecode> {
  signal?.throwIfAborted();
  if (mode !== "cpu") {
    const gpu = await file.gpu();
    signal?.throwIfAborted();
    if (typeof gpu !== "string" && mode === "auto" && gpu.gpu.fallback) {
      return { ...await cpu(file, box, level, signal), path: "cpu", reason: `auto: ${gpu.gpu.adapter} is a software fallback adapter, slower than the CPU decoder` };
    }
    if (typeof gpu !== "string") {
      return { ...await gpu.decodeTimed(box, levelFactors(level), signal), path: "webgpu", reason: `${mode}: ${gpu.gpu.adapter}` };
    }
    return { ...await cpu(file, box, level, signal), path: "cpu", reason: `${mode}: ${gpu}` };
  }
  return { ...await cpu(file, box, level, signal), path: "cpu", reason: "cpu requested" };
}
