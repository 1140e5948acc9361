/**
 * Chunk-worker half of the `volmicro.gaussians` codec in Neuroglancer's zarr datasource: each
 * chunk's bytes go to the async-computation pool, where the CPU decoder of src/store/codec
 * validates them (every bound before any voxel is decoded) and decodes them. A bad chunk rejects
 * with its typed error, which Neuroglancer records as that chunk's failure; the others render.
 * Imported for its side effect by chunk-worker.ts.
 */
import { requestAsyncComputation } from "neuroglancer/unstable/async_computation/request.js";
import { CodecKind } from "neuroglancer/unstable/datasource/zarr/codec/index.js";
import { registerCodec } from "neuroglancer/unstable/datasource/zarr/codec/decode.js";
import { fromWire, isWireError } from "../core/errors.js";
import { chunkShape3, GAUSSIAN_CODEC_NAME, type GaussianCodecConfig } from "../store/codec/config.js";
import { decodeGaussianChunkOnPool, ngDType } from "./gaussian-codec.js";

registerCodec<GaussianCodecConfig>({
  name: GAUSSIAN_CODEC_NAME,
  kind: CodecKind.arrayToBytes,
  async decode(configuration, decodedArrayInfo, encoded, signal) {
    signal.throwIfAborted();
    const shape = chunkShape3(decodedArrayInfo.chunkShape);
    const dtype = ngDType(decodedArrayInfo.dataType);
    // A copy of its own, so that transferring it cannot detach a buffer Neuroglancer still holds.
    const bytes = encoded.slice();
    try {
      // The pool drops a request whose signal aborts while it waits for a free worker.
      const data = await requestAsyncComputation(decodeGaussianChunkOnPool, signal, [bytes.buffer], bytes, shape, dtype, configuration);
      return data as ArrayBufferView<ArrayBuffer>;
    } catch (e) {
      throw isWireError(e) ? fromWire(e) : e;
    }
  },
});
