/**
 * Chunk-worker half of the `volmicro.gaussians` codec in Neuroglancer's zarr datasource. Where
 * the worker has a hardware WebGPU adapter (or `?vmgDecode=webgpu` asks for any adapter), a chunk
 * is decoded by the same splat pass as `.vmg` layers (src/gpu), its buffers freed after; otherwise
 * (no adapter, a software one, `?vmgDecode=cpu`, a device lost mid-chunk, or, for "auto", a
 * device still being requested: the first frame does not wait for it) its bytes go to the
 * async-computation pool, where src/store/codec decodes them on the CPU. Both paths validate every
 * field and bound before any voxel is decoded; a bad chunk rejects with its typed error, which
 * store-chunk-source.ts reports to the page and Neuroglancer records as that chunk's failure.
 * Each decode is reported (path, reason, time) like a `.vmg` chunk. Imported by chunk-worker.ts.
 */
import { requestAsyncComputation } from "neuroglancer/unstable/async_computation/request.js";
import { CodecKind } from "neuroglancer/unstable/datasource/zarr/codec/index.js";
import { registerCodec } from "neuroglancer/unstable/datasource/zarr/codec/decode.js";
import type { DType, VoxelArray } from "../core/dtype.js";
import { fromWire, isWireError } from "../core/errors.js";
import type { Shape3 } from "../core/gaussian.js";
import { fullBox, VmgDecoder } from "../decode/decoder.js";
import { getGpu, gpuUnavailable, type GpuContext } from "../gpu/device.js";
import { GpuDecodeError, GpuVmgDecoder } from "../gpu/gpu-decoder.js";
import { chunkAsFile, readChunk } from "../store/codec/chunk.js";
import { chunkShape3, GAUSSIAN_CODEC_NAME } from "../store/codec/config.js";
import { VMG_DECODE_REPORT_RPC_ID, type ChunkDecodeReport, type CpuKernel, type DecodeMode, type DecodePath } from "./base.js";
import { DECODE_MEASURE, decodeGaussianChunkOnPool, ngDType, type ResolvedGaussianConfig } from "./gaussian-codec.js";
import { gpuIfSettled } from "./gpu-settled.js";
import { cpuReason } from "./loader.js";
import { storeSourceOf } from "./store-chunk-source.js";

interface StoreChunkDecode { data: VoxelArray; ms: number; path: DecodePath; reason: string; kernel?: CpuKernel }

async function onPool(bytes: Uint8Array, shape: Shape3, dtype: DType, config: ResolvedGaussianConfig, signal: AbortSignal): Promise<{ data: VoxelArray; ms: number; kernel: CpuKernel }> {
  // A copy of its own, so that transferring it cannot detach a buffer Neuroglancer still holds.
  const copy = bytes.slice();
  try {
    // The pool drops a request whose signal aborts while it waits for a free worker.
    return await requestAsyncComputation(decodeGaussianChunkOnPool, signal, [copy.buffer], copy, shape, dtype, config);
  } catch (e) {
    throw isWireError(e) ? fromWire(e) : e;
  }
}

/** The device for `mode`: "auto" takes it only once its request has settled (gpu-settled.ts), "webgpu" waits for it. */
async function gpuFor(mode: DecodeMode): Promise<GpuContext | string> {
  if (mode === "cpu") return "cpu requested";
  const now = mode === "auto" ? gpuIfSettled() : await getGpu();
  return now === "pending" ? "WebGPU device not ready yet" : now ?? gpuUnavailable();
}

async function decodeStoreChunk(bytes: Uint8Array, shape: Shape3, dtype: DType, config: ResolvedGaussianConfig, signal: AbortSignal): Promise<StoreChunkDecode> {
  const mode = config.decode;
  const gpu = await gpuFor(mode);
  signal.throwIfAborted();
  const why = cpuReason(mode, gpu);
  if (why !== undefined || typeof gpu === "string") return { ...await onPool(bytes, shape, dtype, config, signal), path: "cpu", reason: why ?? `${mode}: ${gpu}` };
  const decoder = new GpuVmgDecoder(gpu, new VmgDecoder(chunkAsFile(readChunk(bytes, shape, config), shape, dtype, config)));
  try {
    return { ...await decoder.decodeTimed(fullBox(shape), [1, 1, 1], signal), path: "webgpu", reason: `${mode}: ${gpu.adapter}` };
  } catch (e) {
    if (!(e instanceof GpuDecodeError)) throw e;
    // This chunk goes to the CPU; the next one asks for a device again (getGpu forgets a lost one).
    return { ...await onPool(bytes, shape, dtype, config, signal), path: "cpu", reason: `${mode}: ${e.message}; decoding on the CPU` };
  } finally {
    decoder.destroy();
  }
}

registerCodec<ResolvedGaussianConfig>({
  name: GAUSSIAN_CODEC_NAME,
  kind: CodecKind.arrayToBytes,
  async decode(configuration, decodedArrayInfo, encoded, signal) {
    signal.throwIfAborted();
    const shape = chunkShape3(decodedArrayInfo.chunkShape);
    const dtype = ngDType(decodedArrayInfo.dataType);
    const t0 = performance.now();
    const r = await decodeStoreChunk(encoded, shape, dtype, configuration, signal);
    // the trace keeps the measure; the timeline entry is dropped at once, or entries pile up per chunk
    performance.measure?.(DECODE_MEASURE, { start: t0 });
    performance.clearMeasures?.(DECODE_MEASURE);
    const source = storeSourceOf(signal);
    if (source) {
      const report: ChunkDecodeReport = { url: source.parameters.url, level: 0, path: r.path, reason: r.reason, voxels: r.data.length, ms: r.ms, totalMs: performance.now() - t0, kernel: r.kernel };
      source.rpc?.invoke(VMG_DECODE_REPORT_RPC_ID, report);
    }
    return r.data as ArrayBufferView<ArrayBuffer>;
  },
});
