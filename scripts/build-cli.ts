/**
 * `npm run build:cli` (also run by `npm ci`/`npm install` through `prepare`, and before `npm test`):
 * builds the WebAssembly decode kernel (build-wasm.ts) and bundles the `vmg` command and the worker threads it starts into dist/cli/ with esbuild, so that
 * `vmg` starts as plain JavaScript instead of booting a TypeScript loader in every process and
 * thread (tsc emitting per-file JS took 16 s here, esbuild under 1 s). Code splitting keeps each
 * command's modules in their own chunk (main.ts imports them lazily), so `vmg info` loads little;
 * npm packages stay external. Source maps name the .ts lines in stack traces.
 *
 * dist/cli/inputs.json records the hash of every source file in the bundle, so that tests can tell
 * a build made from other sources (`ensureCliBuild`) and rebuild it rather than test stale code.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { ensureWasmBuild } from "./build-wasm.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "dist", "cli");
const INPUTS = "inputs.json";
const SELF = "scripts/build-cli.ts";

const hashFile = (rel: string) => createHash("sha256").update(readFileSync(join(ROOT, rel))).digest("hex");

/** Bundle into a fresh folder, then swap it in, so a reader never sees half a build. */
export async function buildCli(): Promise<void> {
  await ensureWasmBuild(); // dist/wasm, which the CLI's decode threads load (src/node/wasm-kernel.ts)
  const tmp = `${OUT}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    // the worker bundles sit beside the chunks, where src/node/worker-script.ts looks for them
    entryPoints: { main: "src/cli/main.ts", "decode-worker": "src/node/decode-worker.ts", "fit-worker": "src/node/fit-worker.ts", "store-fit-worker": "src/node/store-fit-worker.ts", "queue-fit-processor": "src/queue/fit-processor.ts" },
    outdir: tmp,
    entryNames: "[name]",
    chunkNames: "chunk-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    sourcesContent: false,
    metafile: true,
    logLevel: "warning",
  });
  const inputs: Record<string, string> = { [SELF]: hashFile(SELF) };
  for (const rel of Object.keys(result.metafile.inputs).sort()) inputs[rel] = hashFile(rel);
  writeFileSync(join(tmp, INPUTS), JSON.stringify(inputs, null, 1));
  rmSync(OUT, { recursive: true, force: true });
  renameSync(tmp, OUT);
}

/** Whether dist/cli was built from the sources as they are now. */
export function cliBuildIsFresh(): boolean {
  const stamp = join(OUT, INPUTS);
  if (!existsSync(stamp)) return false;
  const inputs = JSON.parse(readFileSync(stamp, "utf8")) as Record<string, string>;
  if (!(SELF in inputs)) return false;
  return Object.entries(inputs).every(([rel, sha]) => existsSync(join(ROOT, rel)) && hashFile(rel) === sha);
}

/** Rebuild dist/cli unless it is current (and dist/wasm unless it is: its sources are not the bundle's). */
export async function ensureCliBuild(): Promise<void> {
  if (!cliBuildIsFresh()) await buildCli();
  else await ensureWasmBuild();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  await buildCli();
  if (!process.argv.includes("--quiet")) console.log(`build:cli: dist/cli in ${(performance.now() - t0).toFixed(0)} ms`);
}
