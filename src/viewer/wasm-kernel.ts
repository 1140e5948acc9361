/**
 * Browser adapter of the WebAssembly decode kernel: webpack inlines dist/wasm/decode-kernel.wasm
 * (built from asm/ by webpack.config.js) as a data URL; importing this module installs it for the
 * worker (chunk worker, async-computation pool). Where the engine lacks WebAssembly SIMD, or the
 * module fails to compile, the decoder stays on its JavaScript path.
 */
import kernelUrl from "../../dist/wasm/decode-kernel.wasm";
import { installWasmKernel } from "../decode/wasm-kernel.js";

function dataUrlBytes(url: string): Uint8Array {
  const text = atob(url.slice(url.indexOf(",") + 1));
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

try {
  installWasmKernel(dataUrlBytes(kernelUrl));
} catch (e) {
  console.warn(`volmicro: WebAssembly decode kernel not loaded, decoding with JavaScript: ${e instanceof Error ? e.message : String(e)}`);
}
