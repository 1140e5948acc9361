/**
 * LZMA (TIFF compression 34925, as tifffile and libtiff write it: an .xz stream per strip or
 * tile) for `geotiff`, which has no decoder of its own for it: `xz-decompress` (WebAssembly)
 * plugged into geotiff's decoder registry, so predictors and block handling stay geotiff's.
 *
 * Browser-safe: web streams only.
 */
import { addDecoder, BaseDecoder } from "geotiff";
import * as xzModule from "xz-decompress";

// A UMD bundle: Node's ESM loader offers it as the default export only, bundlers as named exports.
const { XzReadableStream } = (xzModule as { default?: typeof xzModule }).default ?? xzModule;

export const TIFF_LZMA = 34925;

class LzmaDecoder extends BaseDecoder {
  override async decodeBlock(buffer: ArrayBufferLike): Promise<ArrayBuffer> {
    const xz = new XzReadableStream(new Blob([buffer as ArrayBuffer]).stream());
    return new Response(xz as ReadableStream<Uint8Array>).arrayBuffer();
  }
}

addDecoder(TIFF_LZMA, async () => LzmaDecoder, undefined, false);
