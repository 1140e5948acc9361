/** Pool-worker side of async-decode.ts: a small LRU of parsed files, each with its CPU decoder. */
import { registerAsyncComputation } from "neuroglancer/unstable/async_computation/handler.js";
import type { Box } from "../core/background.js";
import { toWire } from "../core/errors.js";
import { VmgDecoder, levelFactors } from "../decode/decoder.js";
import { readVmg } from "../format/vmg.js";
import { decodeCpuChunk, type AsyncDecodeResult } from "./async-decode.js";

const MAX_FILES = 4;
const decoders = new Map<string, VmgDecoder>();

// Errors go back as WireErrors: the pool posts what is thrown by structured clone.
registerAsyncComputation(decodeCpuChunk, async (url, bytes, box, level): Promise<{ value: AsyncDecodeResult; transfer?: Transferable[] }> => {
  try {
    return decodeOnThisWorker(url, bytes, box, level);
  } catch (e) {
    throw toWire(e);
  }
});

function decodeOnThisWorker(url: string, bytes: Uint8Array | null, box: Box, level: number): { value: AsyncDecodeResult; transfer?: Transferable[] } {
  let d = decoders.get(url);
  if (!d) {
    if (!bytes) return { value: { missing: true } };
    d = new VmgDecoder(readVmg(bytes, { file: url }));
    if (decoders.size >= MAX_FILES) decoders.delete(decoders.keys().next().value!);
  } else {
    decoders.delete(url); // re-insert: most recently used last
  }
  decoders.set(url, d);
  const factors = levelFactors(level);
  d.scale(factors); // per-scale setup, once per file: not part of a chunk's decode time
  const t0 = performance.now();
  const data = d.decode(box, factors);
  const ms = performance.now() - t0;
  return { value: { missing: false, data, ms }, transfer: [data.buffer as ArrayBuffer] };
}
