/**
 * A `.vmg` file in the browser: fetched once per URL (in this realm), parsed, with its CPU decoder
 * and, on demand, its WebGPU decoder. Also picks the decode path for a requested mode. Has no
 * Neuroglancer imports: the worker backend and the page's test hooks share it.
 */
import type { Box } from "../core/background.js";
import type { VoxelArray } from "../core/dtype.js";
import { VmgDecoder, levelFactors } from "../decode/decoder.js";
import { VmgFormatError } from "../format/errors.js";
import { readVmg } from "../format/vmg.js";
import type { DecodeMode, DecodePath, VmgInfo } from "./base.js";
import { getGpu } from "../gpu/device.js";
import { GpuDecodeError, GpuVmgDecoder } from "../gpu/gpu-decoder.js";

export class VmgFetchError extends Error {
  override name = "VmgFetchError";
}

export interface LoadedVmg {
  info: VmgInfo;
  bytes: Uint8Array;
  cpu: VmgDecoder;
  /** The WebGPU decoder, or why there is none. */
  gpu(): Promise<GpuVmgDecoder | string>;
  /** The GPU failed (its device was lost): decode this file on the CPU from now on, `reason` saying why. */
  dropGpu(reason: string): void;
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
    throw new VmgFetchError(`${name}: cannot fetch (${(e as Error).message})`);
  }
  if (!res.ok) throw new VmgFetchError(`${name}: HTTP ${res.status} ${res.statusText}`.trim());
  const bytes = new Uint8Array(await res.arrayBuffer());
  let cpu: VmgDecoder;
  try {
    cpu = new VmgDecoder(readVmg(bytes, { file: name }));
  } catch (e) {
    // Errors cross worker boundaries as plain Errors: keep the class in the message.
    if (e instanceof VmgFormatError) throw new Error(`${e.name}: ${e.message}`);
    throw e;
  }
  const h = cpu.file.header;
  const info: VmgInfo = {
    url, bytes: bytes.length, count: cpu.file.count,
    shape: [...h.shape], voxelSize: [...h.voxelSize], unit: h.unit, origin: [...h.origin], dtype: h.dtype,
    valueOffset: h.valueOffset, valueScale: h.valueScale, truncation: h.truncation, encoding: h.encoding,
  };
  let gpu: Promise<GpuVmgDecoder | string> | undefined;
  return {
    info,
    bytes,
    cpu,
    gpu: () => (gpu ??= getGpu().then((ctx) => (ctx ? new GpuVmgDecoder(ctx, cpu) : "no WebGPU adapter"))),
    dropGpu: (reason) => {
      const dropped = gpu;
      gpu = Promise.resolve(reason);
      void dropped?.then((d) => {
        if (typeof d === "string") return; // dropped already (chunks in flight fail one by one)
        console.warn(`volmicro: ${name}: ${reason}`);
        d.destroy();
      });
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

export type CpuDecode = (file: LoadedVmg, box: Box, level: number) => Promise<TimedDecode>;

/** Decode on this thread with the file's own CPU decoder. */
export const decodeHere: CpuDecode = async (file, box, level) => {
  const factors = levelFactors(level);
  file.cpu.scale(factors);
  const t0 = performance.now();
  const data = file.cpu.decode(box, factors);
  return { data, ms: performance.now() - t0 };
};

/**
 * Decode `box` of scale `level` by the path `mode` asks for; "auto" and "webgpu" fall back to the
 * CPU when there is no adapter (the reason says so). "auto" also takes the CPU when the only
 * adapter is a software fallback (SwiftShader on a machine without a GPU): it computes the same
 * function but about 3-100× slower than the CPU decoder, which would delay the first frame by
 * minutes. "webgpu" uses any adapter. When the GPU fails (a lost device), this chunk and every
 * later one of the file decode on the CPU, the reason saying so.
 */
export async function decodeChunk(
  file: LoadedVmg, box: Box, level: number, mode: DecodeMode, cpu: CpuDecode = decodeHere,
): Promise<ChunkDecode> {
  if (mode !== "cpu") {
    const gpu = await file.gpu();
    if (typeof gpu !== "string" && mode === "auto" && gpu.gpu.fallback) {
      return { ...await cpu(file, box, level), path: "cpu", reason: `auto: ${gpu.gpu.adapter} is a software fallback adapter, slower than the CPU decoder` };
    }
    if (typeof gpu !== "string") {
      try {
        return { ...await gpu.decodeTimed(box, levelFactors(level)), path: "webgpu", reason: `${mode}: ${gpu.gpu.adapter}` };
      } catch (e) {
        if (!(e instanceof GpuDecodeError)) throw e;
        const reason = `${e.message}; decoding on the CPU`;
        file.dropGpu(reason);
        return { ...await cpu(file, box, level), path: "cpu", reason: `${mode}: ${reason}` };
      }
    }
    return { ...await cpu(file, box, level), path: "cpu", reason: `${mode}: ${gpu}` };
  }
  return { ...await cpu(file, box, level), path: "cpu", reason: "cpu requested" };
}
