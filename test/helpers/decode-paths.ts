/**
 * The decoder's two paths for tests that must hold on both: the JavaScript reference and the
 * WebAssembly SIMD kernel (built from asm/ if dist/wasm is stale, installed for this process).
 */
import { ensureWasmBuild } from "../../scripts/build-wasm.js";
import { installWasmKernel, wasmSimdSupported } from "../../src/decode/wasm-kernel.js";

if (!wasmSimdSupported()) throw new Error("this Node runs no WebAssembly SIMD: the wasm path cannot be tested");
installWasmKernel(await ensureWasmBuild());

export const DECODE_PATHS = ["js", "wasm"] as const;
