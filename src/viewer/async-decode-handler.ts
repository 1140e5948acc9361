/** Pool-worker side of async-decode.ts: a small LRU of parsed files, each with its CPU decoder. */
import { registerAsyncComputation } from "neuroglancer/unstable/async_computation/handler.js";
import { VmgDecoder, levelFactors } from "../decode/decoder.js";
import { readVmg } from "../format/vmg.js";
import { decodeCpuChunk, type AsyncDecodeResult } from "./async-decode.js";

const MAX_FILES = 4;
const decoders = new Map<string, VmgDecoder>();

registerAsyncComputation(decodeCpuChunk, async (url, bytes, box, level): Promise<{ value: AsyncDecodeResult; transfer?: Transferable[] }> => {
  let d = decoders.get(url);
  if (!d) {
    if (!bytes) return { value: { missing: true } };
    d = new VmgDecoder(readVmg(bytes, { file: url }));
    if (decoders.size >= MAX_FILES) decoders.delete(decoders.keys().next().value!);
  } else {
    decoders.delete(url); // re-insert: most recently used last
  }
  decoders.set(url, d);
  const data = d.decode(box, levelFactors(level));
  return { value: { missing: false, data }, transfer: [data.buffer as ArrayBuffer] };
});
