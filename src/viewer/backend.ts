/**
 * Worker half of the `vmg://` datasource: answers the header request and decodes chunks, each
 * a box on a scale's grid, with WebGPU or the CPU decoder (see loader.ts), reporting every
 * decode (path, time) to the main thread.
 */
import { WithParameters } from "neuroglancer/unstable/chunk_manager/backend.js";
import { VolumeChunkSource, type VolumeChunk } from "neuroglancer/unstable/sliceview/volume/backend.js";
import { requestAsyncComputation } from "neuroglancer/unstable/async_computation/request.js";
import { registerPromiseRPC, registerSharedObject } from "neuroglancer/unstable/worker_rpc.js";
import {
  VMG_DECODE_REPORT_RPC_ID, VMG_FILE_CACHE_RPC_ID, VMG_INFO_RPC_ID, VmgSourceParameters, type ChunkDecodeReport, type DecodePath, type VmgInfo,
} from "./base.js";
import { fromWire, isWireError, toWire } from "../core/errors.js";
import { decodeCpuChunk } from "./async-decode.js";
import {
  decodeChunk, decodeHere, fileCacheState, holdOnlyVmg, loadVmg, noteVmgUse, type CpuDecode, type FileCacheState,
} from "./loader.js";

// Errors cross to the page as WireErrors (structured clone would keep neither class nor fields).
registerPromiseRPC<VmgInfo>(VMG_INFO_RPC_ID, async (x: { url: string }) => {
  try {
    return { value: (await loadVmg(x.url)).info };
  } catch (e) {
    throw toWire(e);
  }
});

// Holds come from the page, which knows its layers (a chunk source outlives its layer while its chunks stay cached).
registerPromiseRPC<FileCacheState>(VMG_FILE_CACHE_RPC_ID, async (x: { maxBytes?: number; shown?: string[] }) => {
  if (x.shown) holdOnlyVmg(x.shown);
  return { value: fileCacheState(x.maxBytes) };
});

/**
 * CPU decode on the async-computation pool: the file's bytes travel only to workers lacking them.
 * The pool drops a request whose signal aborts while it waits for a free worker.
 */
const decodeOnPool: CpuDecode = async (file, box, level, signal) => {
  const url = file.info.url;
  const onPool = async (bytes: Uint8Array | null) => {
    try {
      return await requestAsyncComputation(decodeCpuChunk, signal, undefined, url, bytes, box, level);
    } catch (e) {
      throw isWireError(e) ? fromWire(e) : e;
    }
  };
  const first = await onPool(null);
  if (!first.missing) return first;
  const second = await onPool(file.bytes);
  // Another worker answered the retry and may still lack the file; a third try is not worth it.
  return second.missing ? decodeHere(file, box, level, signal) : second;
};

/** Log each (file, path) once, so the console says which path is used without flooding. */
const logged = new Set<string>();

@registerSharedObject()
export class VmgVolumeChunkSource extends WithParameters(VolumeChunkSource, VmgSourceParameters) {
  override async download(chunk: VolumeChunk, signal: AbortSignal): Promise<void> {
    const { url, level, decode } = this.parameters;
    const origin = this.computeChunkBounds(chunk).slice(); // shared scratch vector: copy before awaiting
    const size = chunk.chunkDataSize!;
    const file = await loadVmg(url);
    signal.throwIfAborted();
    const box = {
      x0: origin[0]!, x1: origin[0]! + size[0]!,
      y0: origin[1]!, y1: origin[1]! + size[1]!,
      z0: origin[2]!, z1: origin[2]! + size[2]!,
    };
    const t0 = performance.now();
    const { data, path, reason, ms } = await decodeChunk(file, box, level, decode, decodeOnPool, signal);
    noteVmgUse(file);
    const totalMs = performance.now() - t0;
    chunk.data = data;
    this.report(path, reason, data.length, ms, totalMs);
  }

  private report(path: DecodePath, reason: string, voxels: number, ms: number, totalMs: number): void {
    const { url, level } = this.parameters;
    const key = `${url}|${path}`;
    if (!logged.has(key)) {
      logged.add(key);
      console.log(`volmicro: decoding ${url.startsWith("data:") ? "inline data: file" : url} with ${path} (${reason})`);
    }
    const report: ChunkDecodeReport = { url, level, path, reason, voxels, ms, totalMs };
    this.rpc!.invoke(VMG_DECODE_REPORT_RPC_ID, report);
  }
}
