/**
 * `node --import tsx bench/decode-kernel-ab.ts --baseline other.wasm [--head this.wasm] [--json] [--volumes a,b] [--iterations K] [--any-fit-version] [--passes N]`:
 * two builds of the WebAssembly decode kernel (`--head`, default this tree's dist/wasm, and `--baseline`,
 * e.g. main's asm/decode-kernel.ts compiled with the same kernel-layout.ts) on the same boxes, in one process,
 * their passes alternating, CPU time (`process.cpuUsage`): on a shared machine the only A/B that
 * holds. Same cached fits as bench:decode (and `synthetic`, bench:decode's synthetic file). Per
 * volume one JSON line: each build's full decode (DecodePool's z-slab tiles on this thread, least
 * of `--passes`, default 5) and 64³-chunk median (each chunk's least of the passes), their ratios
 * (baseline / this tree: > 1 is faster here), and how far the two builds' stored values are apart
 * over the full decode (largest |difference| in levels, how many voxels differ).
 */
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { boxVoxels, type Box } from "../src/core/background.js";
import { allocVoxels, type VoxelArray } from "../src/core/dtype.js";
import { fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { WasmKernel } from "../src/decode/wasm-kernel.js";
import { readVmg, writeVmg, type VmgFile } from "../src/format/vmg.js";
import { tileSlices } from "../src/node/decode-pool.js";
import { syntheticNeuron } from "../src/synthetic/neuron.js";
import { alignedChunks, demoBlock, manifestVolumes } from "./bench-volumes.js";
import { cachedFit } from "./stream-cache.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const baselinePath = flag("--baseline");
if (!baselinePath) { process.stderr.write("decode-kernel-ab: --baseline <decode-kernel.wasm> is required\n"); process.exit(2); }
const only = flag("--volumes")?.split(",");
const iterations = flag("--iterations") !== undefined ? Number(flag("--iterations")) : undefined;
const passes = Number(flag("--passes") ?? 5);
const anyFitterVersion = args.includes("--any-fit-version");
const log = (s: string) => { if (json) process.stderr.write(s + "\n"); else console.log(s); };
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]!; };
const round = (x: number) => Math.round(x * 1000) / 1000;
const load = () => loadavg()[0]!.toFixed(2);

const build = (path: string) => new WasmKernel(new WebAssembly.Module(readFileSync(path)));
const kernels = { base: build(baselinePath), head: build(flag("--head") ?? fileURLToPath(new URL("../dist/wasm/decode-kernel.wasm", import.meta.url))) };
type Name = keyof typeof kernels;
const names = Object.keys(kernels) as Name[];

function run(name: string, file: VmgFile): void {
  const decoder = new VmgDecoder(file, "js");
  const s = decoder.scale([1, 1, 1]); // per-file setup, once, shared by both builds
  const h = file.header, shape = h.shape;
  const whole = fullBox(shape);
  const slab = tileSlices(whole, availableParallelism());
  const tiles: Box[] = [];
  for (let z0 = 0; z0 < shape[0]; z0 += slab) tiles.push({ ...whole, z0, z1: Math.min(shape[0], z0 + slab) });
  const chunks = alignedChunks(shape, 200);
  const query = (b: Box) => s.index.query(b);
  const decode = (kernel: WasmKernel, box: Box, out: VoxelArray) => {
    kernel.decode(s.kernels.k, query, box, undefined, undefined, { model: file.background, shape, factors: [1, 1, 1], dtype: h.dtype, offset: h.valueOffset, scale: h.valueScale, out });
  };
  const outputs = Object.fromEntries(names.map((n) => [n, allocVoxels(h.dtype, boxVoxels(whole))])) as Record<Name, VoxelArray>;
  const chunkOut = allocVoxels(h.dtype, 64 ** 3);
  const plane = shape[1] * shape[2];
  const full = Object.fromEntries(names.map((n) => [n, Infinity])) as Record<Name, number>;
  const chunkMs = Object.fromEntries(names.map((n) => [n, chunks.map(() => Infinity)])) as Record<Name, number[]>;
  for (const n of names) for (const b of chunks.slice(0, 8)) decode(kernels[n], b, chunkOut); // JIT warm-up
  const load0 = load();
  for (let pass = 0; pass < passes; pass++) for (const n of pass % 2 ? [...names].reverse() : names) {
    const kernel = kernels[n];
    chunks.forEach((b, i) => { const t = cpuMs(); decode(kernel, b, chunkOut); chunkMs[n][i] = Math.min(chunkMs[n][i]!, cpuMs() - t); });
    const out = outputs[n];
    const t = cpuMs();
    for (const b of tiles) decode(kernel, b, out.subarray(b.z0 * plane, b.z1 * plane) as VoxelArray);
    full[n] = Math.min(full[n], cpuMs() - t);
  }
  let maxDiff = 0, differing = 0;
  for (let i = 0; i < outputs.base.length; i++) {
    const d = Math.abs(Number(outputs.base[i]) - Number(outputs.head[i]));
    if (d !== 0) { differing++; maxDiff = Math.max(maxDiff, d); }
  }
  const row = {
    volume: name, voxels: boxVoxels(whole), gaussians: file.count,
    base_full_cpu_ms: round(full.base), head_full_cpu_ms: round(full.head), full_ratio: round(full.base / full.head),
    base_chunk64_median_cpu_ms: round(median(chunkMs.base)), head_chunk64_median_cpu_ms: round(median(chunkMs.head)),
    chunk64_ratio: round(median(chunkMs.base) / median(chunkMs.head)),
    max_value_diff: maxDiff, differing_voxels: differing, load: `${load0}→${load()}`,
  };
  if (json) console.log(JSON.stringify(row));
  log(`${name}: full ${row.base_full_cpu_ms} → ${row.head_full_cpu_ms} CPU ms (${row.full_ratio}×) | 64³ median ${row.base_chunk64_median_cpu_ms} → ${row.head_chunk64_median_cpu_ms} (${row.chunk64_ratio}×) | values differ by ≤ ${maxDiff} at ${differing} voxels | load ${row.load}`);
}

log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(", ")} (${availableParallelism()} cores)`);
if (!only || only.includes("synthetic")) run("synthetic", readVmg(writeVmg(syntheticNeuron({ shape: [100, 647, 813], gaussians: 20693, seed: 1 }))));
for (const v of [...manifestVolumes(iterations), demoBlock()].filter((b) => !only || only.includes(b.name))) {
  const fit = await cachedFit(await v.load(), v.name, v.settings, log, anyFitterVersion);
  run(v.name, readVmg(fit.bytes));
}
log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);
