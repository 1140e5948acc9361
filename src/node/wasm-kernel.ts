/**
 * Node adapter of the WebAssembly decode kernel: installs dist/wasm/decode-kernel.wasm (built by
 * scripts/build-wasm.ts, which `npm ci` and the CLI build run) for this thread on import. Found
 * beside the compiled CLI (dist/cli → dist/wasm) or from the sources (src/node → dist/wasm).
 * VMG_DECODE_KERNEL=js keeps the thread on the JavaScript path (A/B runs, a suspected kernel bug);
 * a missing build does too, silently: the JS path is the reference. A store's block fits do not
 * choose: they take the path their run recorded (store/fit-kernel.ts), refused where it is missing. A build that does not compile
 * or was made for another kernel layout (a stale dist/wasm run from the sources) is refused with
 * one warning naming the file (from the main thread; workers stay quiet) and the JS path is used.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";
import { installWasmKernel, type WasmKernel } from "../decode/wasm-kernel.js";

const CANDIDATES = ["../wasm/decode-kernel.wasm", "../../dist/wasm/decode-kernel.wasm"];

/** Install the kernel for this thread unless VMG_DECODE_KERNEL=js or no build is found. */
export function loadWasmKernel(): WasmKernel | undefined {
  if (process.env.VMG_DECODE_KERNEL === "js") return undefined;
  for (const rel of CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (!existsSync(path)) continue;
    try {
      return installWasmKernel(readFileSync(path));
    } catch (e) {
      if (isMainThread) process.stderr.write(`vmg: warning: ${path}: ${(e as Error).message}; decoding on the JavaScript path\n`);
      return undefined;
    }
  }
  return undefined;
}

loadWasmKernel();
