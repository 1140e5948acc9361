/**
 * Pool-worker side of async-decode.ts: parsed files with their CPU decoders, in a cache bounded
 * in bytes (file, kernels, spatial indexes), least recently used out. A pool worker cannot know
 * which layers exist, so nothing is held here: the bound alone limits what it keeps.
 */
import { registerAsyncComputation } from "neuroglancer/unstable/async_computation/handler.js";
import { boxVoxels, type Box } from "../core/background.js";
import { toWire } from "../core/errors.js";
import { ByteCache } from "./byte-cache.js";
import { VmgDecoder, levelFactors } from "../decode/decoder.js";
import { readVmg } from "../format/vmg.js";
import { decodeCpuChunk, type AsyncDecodeResult } from "./async-decode.js";
import { poolScratch } from "./pool-scratch.js";

/** Per pool worker (up to 12 of them). */
const POOL_CACHE_BYTES = 256 << 20;
const decoders = new ByteCache<{ decoder: VmgDecoder; fileBytes: number }>(POOL_CACHE_BYTES, () => undefined);

// Errors go back as WireErrors: the pool posts what is thrown by structured clone.
registerAsyncComputation(decodeCpuChunk, async (url, bytes, box, level): Promise<{ value: AsyncDecodeResult; transfer?: Transferable[] }> => {
  try {
    return decodeOnThisWorker(url, bytes, box, level);
  } catch (e) {
    throw toWire(e);
  }
});

function decodeOnThisWorker(url: string, bytes: Uint8Array | null, box: Box, level: number): { value: AsyncDecodeResult; transfer?: Transferable[] } {
  let entry = decoders.get(url);
  if (!entry) {
    if (!bytes) return { value: { missing: true } };
    entry = { decoder: new VmgDecoder(readVmg(bytes, { file: url })), fileBytes: bytes.byteLength };
    decoders.set(url, entry, entry.fileBytes);
  }
  const d = entry.decoder;
  const factors = levelFactors(level);
  d.scale(factors); // per-scale setup, once per file: not part of a chunk's decode time
  decoders.resize(url, entry.fileBytes + d.bytes());
  const t0 = performance.now();
  const data = d.decode(box, factors, undefined, poolScratch(boxVoxels(box)));
  const ms = performance.now() - t0;
  return { value: { missing: false, data, ms }, transfer: [data.buffer as ArrayBuffer] };
}
