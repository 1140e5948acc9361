/**
 * `node --import tsx bench/decode-profile.ts [--json] [--volumes a,b] [--iterations K] [--any-fit-version]`: where the time of a decode
 * goes, on the real fits of bench:decode (cached under .cache/; the demo block and trailmap by
 * default). The decoder's own stages are called one at a time on the boxes a decode really uses —
 * the z-slab tiles of a DecodePool full decode (on this thread) and every 64³-aligned chunk — and
 * timed: zeroing the field, spatial index query, row planning (solving each Gaussian's support as
 * x-rows), the row walk (exp by forward differencing, adding into the field) and the sweep that
 * adds the background and converts to the source dtype. Also: Gaussians per voxel, rows and row lengths, the per-file setup, and
 * the worker pool against one thread. Every figure is the least of repeated passes (a shared
 * machine only ever adds time). The stages are the JavaScript path's; where the WebAssembly SIMD
 * kernel is built, its whole decode of each box and its splat alone (zeroing, gathering the
 * kernels, planning + walk, the sum copied out) are timed beside them.
 */
import { availableParallelism, loadavg } from "node:os";
import type { Box } from "../src/core/background.js";
import { KERNEL_STRIDE } from "../src/core/constants.js";
import { allocVoxels } from "../src/core/dtype.js";
import { VmgDecoder } from "../src/decode/decoder.js";
import { installedWasmKernel } from "../src/decode/wasm-kernel.js";
import { prepareKernels } from "../src/decode/kernels.js";
import { visitRows, type RowVisitor } from "../src/decode/rows.js";
import { SpatialIndex } from "../src/decode/spatial-index.js";
import { splatKernel } from "../src/decode/splat.js";
import { sumToValues } from "../src/decode/values.js";
import { readVmg, type VmgFile } from "../src/format/vmg.js";
import { DecodePool, tileSlices } from "../src/node/decode-pool.js";
import { alignedChunks, demoBlock, manifestVolumes } from "./bench-volumes.js";
import { cachedFit } from "./stream-cache.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
// --any-fit-version: the newest cached fit of each volume whatever fitter version made it (no refit)
const anyFitterVersion = process.argv.includes("--any-fit-version");
const only = (args.includes("--volumes") ? args[args.indexOf("--volumes") + 1]! : `${demoBlock().name},trailmap_lightsheet_axons_303x303x303_u16`).split(",");
// with --json, stdout holds only the JSON lines and the readable report goes to stderr
const log = (s: string) => { if (json) process.stderr.write(s + "\n"); else console.log(s); };
const iterations = args.includes("--iterations") ? Number(args[args.indexOf("--iterations") + 1]) : undefined; // as bench:decode's
const now = () => performance.now();

interface Stages { zero: number; query: number; plan: number; splat: number; background_convert: number; total: number; wasm_total: number; wasm_splat: number }
interface Counts { voxels: number; kernels: number; rows: number; visits: number }

const STAGES = ["zero", "query", "plan", "walk", "background_convert"] as const;
type Stage = (typeof STAGES)[number];
/** The splat solves each kernel's rows again (plan: the rows handed to a visitor that only counts them) and walks them: its walk is the splat less the planning. */
const stageMs = (st: Stages, k: Stage) => (k === "walk" ? Math.max(0, st.splat - st.plan) : st[k]);

/** Counts the row segments and voxel visits of the rows it is handed: the row solving alone. */
class CountRows implements RowVisitor {
  rows = 0;
  visits = 0;
  row(_o: number, len: number): void { this.rows++; this.visits += len; }
}

/** One box through the decoder's stages; `total` is the plain `decode` of the same box. */
function profileBox(decoder: VmgDecoder, wasm: VmgDecoder | undefined, file: VmgFile, box: Box, field: Float32Array, st: Stages, c: Counts): void {
  const h = file.header, n = (box.z1 - box.z0) * (box.y1 - box.y0) * (box.x1 - box.x0);
  const f = field.subarray(0, n), out = allocVoxels(h.dtype, n);
  const s = decoder.scale([1, 1, 1]);
  const k = s.kernels.k, count = new CountRows();
  let t = now();
  f.fill(0);
  st.zero += now() - t; t = now();
  const ids = s.index.query(box);
  st.query += now() - t; t = now();
  for (let j = 0; j < ids.length; j++) visitRows(k, ids[j]! * KERNEL_STRIDE, box, count);
  st.plan += now() - t; t = now();
  for (let j = 0; j < ids.length; j++) splatKernel(k, ids[j]! * KERNEL_STRIDE, box, f);
  st.splat += now() - t; t = now();
  sumToValues(f, { model: file.background, shape: h.shape, box, factors: [1, 1, 1] }, h.dtype, h.valueOffset, h.valueScale, out);
  st.background_convert += now() - t;
  const { rows, visits } = count;
  t = now();
  decoder.decode(box, [1, 1, 1], out, field);
  st.total += now() - t;
  const kernel = installedWasmKernel();
  if (wasm && kernel) {
    t = now();
    wasm.decode(box, [1, 1, 1], out, field);
    st.wasm_total += now() - t; t = now();
    kernel.decode(k, () => ids, box, f);
    st.wasm_splat += now() - t;
  }
  c.voxels += n; c.kernels += ids.length; c.rows += rows; c.visits += visits;
}

function emptyStages(): Stages { return { zero: 0, query: 0, plan: 0, splat: 0, background_convert: 0, total: 0, wasm_total: 0, wasm_splat: 0 }; }
function emptyCounts(): Counts { return { voxels: 0, kernels: 0, rows: 0, visits: 0 }; }

function tilesOf(shape: readonly number[]): Box[] {
  const [nz, ny, nx] = shape as [number, number, number];
  const slab = tileSlices({ z0: 0, z1: nz, y0: 0, y1: ny, x0: 0, x1: nx }, availableParallelism()); // DecodePool's tiling
  const out: Box[] = [];
  for (let z0 = 0; z0 < nz; z0 += slab) out.push({ z0, z1: Math.min(nz, z0 + slab), y0: 0, y1: ny, x0: 0, x1: nx });
  return out;
}

/** Each stage's minimum over repeated passes: the least disturbed figure on a shared machine. */
function run(decoder: VmgDecoder, wasm: VmgDecoder | undefined, file: VmgFile, boxes: Box[]): { st: Stages; c: Counts } {
  const field = new Float32Array(Math.max(...boxes.map((b) => (b.z1 - b.z0) * (b.y1 - b.y0) * (b.x1 - b.x0))));
  for (const b of boxes.slice(0, 4)) profileBox(decoder, wasm, file, b, field, emptyStages(), emptyCounts()); // JIT warm-up
  const best: Stages = { zero: Infinity, query: Infinity, plan: Infinity, splat: Infinity, background_convert: Infinity, total: Infinity, wasm_total: Infinity, wasm_splat: Infinity };
  let c = emptyCounts();
  const started = now();
  for (let pass = 0; pass < 15 && (pass < 3 || now() - started < 2000); pass++) {
    const st = emptyStages();
    c = emptyCounts();
    for (const b of boxes) profileBox(decoder, wasm, file, b, field, st, c);
    for (const k of Object.keys(best) as (keyof Stages)[]) best[k] = Math.min(best[k], st[k]);
  }
  return { st: best, c };
}

function describe(label: string, boxes: number, r: { st: Stages; c: Counts }): Record<string, number> {
  const { st, c } = r;
  const staged = STAGES.reduce((a, k) => a + stageMs(st, k), 0);
  const per = (x: number) => x / boxes;
  log(`  ${label} (${boxes} boxes, one thread): decode ${per(st.total).toFixed(2)} ms per box; stages sum ${per(staged).toFixed(2)} ms`);
  log(`    ${STAGES.map((k) => `${k} ${per(stageMs(st, k)).toFixed(2)} ms (${((100 * stageMs(st, k)) / staged).toFixed(1)}%)`).join(", ")}`);
  log(`    ${(c.visits / c.voxels).toFixed(2)} Gaussians per voxel, ${(c.kernels / boxes).toFixed(0)} Gaussians and ${(c.rows / boxes).toFixed(0)} rows per box, ` +
    `mean row ${(c.visits / c.rows).toFixed(2)} voxels, ${((stageMs(st, "walk") * 1e6) / c.visits).toFixed(2)} ns per voxel visit in the walk, ` +
    `${((st.plan * 1e6) / c.rows).toFixed(1)} ns per planned row`);
  if (st.wasm_total > 0) log(`    wasm kernel: decode ${per(st.wasm_total).toFixed(2)} ms per box (${(st.total / st.wasm_total).toFixed(2)}× the JS path), its splat alone ${per(st.wasm_splat).toFixed(2)} ms ` +
    `(JS: zeroing + planning + walk ${per(st.zero + st.splat).toFixed(2)} ms), ${((st.wasm_splat * 1e6) / c.rows).toFixed(1)} ns per row segment`);
  const out: Record<string, number> = { boxes, ms_per_box: per(st.total), wasm_ms_per_box: per(st.wasm_total), wasm_splat_ms: per(st.wasm_splat), gaussians_per_voxel: c.visits / c.voxels, mean_row: c.visits / c.rows, gaussians_per_box: c.kernels / boxes, rows_per_box: c.rows / boxes };
  for (const k of STAGES) { out[`${k}_ms`] = per(stageMs(st, k)); out[`${k}_pct`] = (100 * stageMs(st, k)) / staged; }
  return out;
}

log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(", ")} (${availableParallelism()} cores)`);
for (const v of [...manifestVolumes(iterations), demoBlock()].filter((b) => only.includes(b.name))) {
  const volume = await v.load();
  const fit = await cachedFit(volume, v.name, v.settings, log, anyFitterVersion);
  const file = readVmg(fit.bytes);
  const shape = file.header.shape;
  const voxels = shape[0] * shape[1] * shape[2];
  log(`${v.name}: ${shape.join("×")} ${file.header.dtype}, ${file.count} Gaussians, background ${file.background.kind}`);

  let prepareMs = Infinity, indexMs = Infinity, t = 0;
  for (let i = 0; i < 3; i++) { // the first is JIT-cold
    t = now();
    const kernels = prepareKernels(file.gaussians, shape, [1, 1, 1], file.header.truncation);
    prepareMs = Math.min(prepareMs, now() - t); t = now();
    new SpatialIndex(kernels, shape);
    indexMs = Math.min(indexMs, now() - t);
  }
  log(`  per-file setup: kernels ${prepareMs.toFixed(1)} ms, spatial index ${indexMs.toFixed(1)} ms`);

  const decoder = new VmgDecoder(file, "js");
  const wasm = installedWasmKernel() ? new VmgDecoder(file, "wasm") : undefined;
  const tiles = tilesOf(shape);
  const full = describe(`full decode as DecodePool tiles it (${tiles.length} z-slab tile${tiles.length > 1 ? "s" : ""})`, tiles.length, run(decoder, wasm, file, tiles));
  const chunks = alignedChunks(shape);
  const chunk = describe("64³-aligned chunks", chunks.length, run(decoder, wasm, file, chunks));

  // the worker pool against this thread on the same volume: what threads, messages and tiling cost
  const poolKernel = installedWasmKernel() ? "wasm" : "js"; // what the pool's threads run (they install the kernel where it is built)
  const oneThreadMs = (poolKernel === "wasm" ? full.wasm_ms_per_box! : full.ms_per_box!) * tiles.length; // the least disturbed one-thread decode
  const pool = await DecodePool.create(fit.bytes);
  await pool.decode();
  let poolMs = Infinity;
  for (let i = 0; i < 5; i++) { t = now(); await pool.decode(); poolMs = Math.min(poolMs, now() - t); }
  await pool.close();
  const threads = availableParallelism();
  log(`  DecodePool (${threads} workers, ${poolKernel}): ${poolMs.toFixed(0)} ms vs ${oneThreadMs.toFixed(0)} ms on one thread: ` +
    `speed-up ${(oneThreadMs / poolMs).toFixed(2)}× of ${threads} (${tiles.length} tile${tiles.length > 1 ? "s" : ""}), ${(voxels / 1e3 / poolMs).toFixed(1)} MVox/s`);
  if (json) console.log(JSON.stringify({ volume: v.name, voxels, gaussians: file.count, background: file.background.kind, prepare_ms: prepareMs, index_ms: indexMs, full, chunk64: chunk, pool_ms: poolMs, one_thread_ms: oneThreadMs, threads, pool_kernel: poolKernel }));
}
log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);
