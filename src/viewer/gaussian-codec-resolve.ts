/**
 * Main-thread half of the `volmicro.gaussians` codec in Neuroglancer's zarr datasource: checks
 * the configuration, data type and chunk shape when an array is opened, so a store the codec
 * cannot decode fails on the layer (one message) rather than chunk by chunk, and passes the
 * page's decode mode (`?vmgDecode=`) to the decode half with the configuration. Imported for its
 * side effect by register.ts.
 */
import { CodecKind } from "neuroglancer/unstable/datasource/zarr/codec/index.js";
import { registerCodec } from "neuroglancer/unstable/datasource/zarr/codec/resolve.js";
import { chunkShape3, GAUSSIAN_CODEC_NAME, parseConfig } from "../store/codec/config.js";
import { ngDType, type ResolvedGaussianConfig } from "./gaussian-codec.js";
import { effectiveDecodeMode } from "./url.js";

registerCodec<ResolvedGaussianConfig>({
  name: GAUSSIAN_CODEC_NAME,
  kind: CodecKind.arrayToBytes,
  resolve(configuration, decodedArrayInfo) {
    const config = parseConfig(configuration);
    ngDType(decodedArrayInfo.dataType);
    chunkShape3(decodedArrayInfo.chunkShape);
    // Chunk sizes vary with their Gaussians: no fixed encoded size. The page's decode mode rides along.
    const resolved: ResolvedGaussianConfig = { ...config, decode: effectiveDecodeMode(globalThis.location?.search ?? "", undefined) };
    return { configuration: resolved };
  },
  getDecodedArrayLayoutInfo(_configuration, decodedArrayInfo) {
    // C order, as the chunk's voxels are decoded (z, y, x; x fastest).
    return { physicalToLogicalDimension: decodedArrayInfo.chunkShape.map((_, i) => i), readChunkShape: decodedArrayInfo.chunkShape };
  },
});
