/**
 * Compiles the decoder's WebAssembly kernel (asm/decode-kernel.ts, AssemblyScript with SIMD128)
 * into dist/wasm/decode-kernel.wasm. Run by build-cli.ts (so `npm ci`'s `prepare` and the CLI
 * build make it) and by webpack.config.js before it bundles the binary into the chunk worker.
 * The binary is built from source every time its inputs change, never committed.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCES = ["asm/decode-kernel.ts", "src/decode/kernel-layout.ts", "scripts/build-wasm.ts"];
export const WASM_OUT = join(ROOT, "dist", "wasm", "decode-kernel.wasm");
const STAMP = `${WASM_OUT}.inputs`;

const ASC_ARGS = ["asm/decode-kernel.ts", "--outFile", "decode-kernel.wasm", "-O3", "--noAssert", "--runtime", "stub", "--enable", "simd", "--initialMemory", "2", "--baseDir", ROOT];

function inputsHash(): string {
  const h = createHash("sha256");
  for (const rel of SOURCES) h.update(rel).update(readFileSync(join(ROOT, rel)));
  // another compiler version makes another binary from the same sources
  return h.update(ASC_ARGS.join(" ")).update(`assemblyscript ${asc.version}`).digest("hex");
}

/** Compile the kernel and write it atomically; returns its bytes. */
export async function buildWasm(): Promise<Uint8Array> {
  let binary: Uint8Array | undefined;
  const { error, stderr } = await asc.main(ASC_ARGS, {
    writeFile: (name: string, contents: Uint8Array | string) => { if (name.endsWith(".wasm") && typeof contents !== "string") binary = contents; },
  });
  if (error || !binary) throw new Error(`build-wasm: asm/decode-kernel.ts did not compile: ${error?.message ?? "no binary"}\n${stderr.toString()}`);
  mkdirSync(dirname(WASM_OUT), { recursive: true });
  const tmp = `${WASM_OUT}.${process.pid}.tmp`;
  writeFileSync(tmp, binary);
  renameSync(tmp, WASM_OUT);
  writeFileSync(STAMP, inputsHash());
  return binary;
}

/** The kernel's bytes, rebuilt unless dist/wasm holds a build of the current sources. */
export async function ensureWasmBuild(): Promise<Uint8Array> {
  if (existsSync(WASM_OUT) && existsSync(STAMP) && readFileSync(STAMP, "utf8") === inputsHash()) return readFileSync(WASM_OUT);
  return buildWasm();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  const bytes = process.argv.includes("--if-stale") ? await ensureWasmBuild() : await buildWasm();
  if (!process.argv.includes("--quiet")) console.log(`build:wasm: dist/wasm/decode-kernel.wasm (${bytes.length} bytes) in ${(performance.now() - t0).toFixed(0)} ms`);
}
