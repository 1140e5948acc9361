/**
 * Main-thread half of the `volmicro.gaussians` codec in Neuroglancer's zarr datasource: checks
 * the configuration, data type and chunk shape when an array is opened, so a store the codec
 * cannot decode fails on the layer (one message) rather than chunk by chunk. Imported for its
 * side effect by register.ts.
 */
import { CodecKind } from "neuroglancer/unstable/datasource/zarr/codec/index.js";
import { registerCodec } from "neuroglancer/unstable/datasource/zarr/codec/resolve.js";
import { chunkShape3, GAUSSIAN_CODEC_NAME, parseConfig, type GaussianCodecConfig } from "../store/codec/config.js";
import { ngDType } from "./gaussian-codec.js";

registerCodec<GaussianCodecConfig>({
  name: GAUSSIAN_CODEC_NAME,
  kind: CodecKind.arrayToBytes,
  resolve(configuration, decodedArrayInfo) {
    const config = parseConfig(configuration);
    ngDType(decodedArrayInfo.dataType);
    chunkShape3(decodedArrayInfo.chunkShape);
    // Chunk sizes vary with their Gaussians: no fixed encoded size.
    return { configuration: config };
  },
  getDecodedArrayLayoutInfo(_configuration, decodedArrayInfo) {
    // C order, as the chunk's voxels are decoded (z, y, x; x fastest).
    return { physicalToLogicalDimension: decodedArrayInfo.chunkShape.map((_, i) => i), readChunkShape: decodedArrayInfo.chunkShape };
  },
});
