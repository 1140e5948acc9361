/**
 * `node --import tsx bench/fit-profile.ts [--volume NAME] [--at z,y,x] [--chunk 64] [--halo 2]
 * [--iterations 200] [--bpp 0.073] [--json]`: where a store chunk's fit spends its time, on one
 * block of real data (default: trailmap's central 64³ chunk and its 2-voxel halo) — per phase of
 * fitChunk and of the fitter's steps (forward field, loss, gradient, Adam, density control,
 * seeding, background, encoding and the drop-until-it-fits loop), plus the gate on an empty block
 * and the cost of sending a block to a worker. One thread (the local engine), as a store worker
 * runs it. Phases are in CPU time (process.cpuUsage), steadier than wall time on a shared machine;
 * the total is given in both.
 */
import { fileURLToPath } from "node:url";
import "../src/node/wasm-kernel.js"; // the fit on the WebAssembly kernel unless VMG_DECODE_KERNEL=js, as a store worker runs it
import type { Shape3 } from "../src/core/gaussian.js";
import { PhaseTimes } from "../src/fit/profile.js";
import { openVolume } from "../src/node/open-volume.js";
import { fitChunk } from "../src/store/block-fit.js";
import { robustMapping } from "../src/fit/prepare.js";
import { blockJobAt, chunkOrigins } from "./block-job.js";

const args = process.argv.slice(2);
const flag = (name: string, d: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : d; };
const name = flag("volume", "trailmap_lightsheet_axons_303x303x303_u16");
const chunk = Number(flag("chunk", "64"));
const settings = { chunk, halo: Number(flag("halo", "2")), bpp: Number(flag("bpp", "0.073")), iterations: Number(flag("iterations", "200")) };
const volume = await openVolume(fileURLToPath(new URL(`../../shared/data/${name}.tif`, import.meta.url)));
const mapping = robustMapping(volume, name);
const centre = volume.shape.map((n) => Math.max(0, Math.floor((n - chunk) / 2))) as unknown as Shape3;
const at = flag("at", centre.join(",")).split(",").map(Number) as unknown as Shape3;

// an empty block: the first chunk of the cellfinder section with nothing above the gate
const emptyFrom = await openVolume(fileURLToPath(new URL("../../shared/data/cellfinder_serial2p_signal_26x1116x627_u16.tif", import.meta.url)));
const emptyMapping = robustMapping(emptyFrom, "cellfinder");
const emptyJob = chunkOrigins(emptyFrom.shape, chunk).map((o) => blockJobAt(emptyFrom, o, settings, emptyMapping)).find((j) => {
  const a = j.config.valueOffset, b = j.config.valueScale;
  return !j.block.data.some((v) => (v - a) / b > j.gate);
});

// phases in CPU time (this fit runs on one thread): on a shared machine wall time mostly measures the others
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const times = new PhaseTimes(cpuNow);
const job = blockJobAt(volume, at, settings, mapping);
const t0 = performance.now(), cpu0 = process.cpuUsage();
const bytes = await fitChunk(job, times);
const total = performance.now() - t0, cpu = process.cpuUsage(cpu0);
// CPU time of this (single-threaded) fit: steadier than wall time when other processes share the cores
const cpuMs = (cpu.user + cpu.system) / 1000;

const copy = (() => { const t = performance.now(); for (let i = 0; i < 10; i++) structuredClone(job); return (performance.now() - t) / 10; })();
let emptyMs = NaN;
if (emptyJob) {
  const runs: number[] = [];
  for (let i = 0; i < 20; i++) { const t = performance.now(); await fitChunk(emptyJob); runs.push(performance.now() - t); }
  emptyMs = runs.sort((a, b) => a - b)[10]!;
}

// "parent/part" phases are parts of the top-level phase whose name starts with "parent"
const nested = (phase: string) => phase.includes("/");
const partsOf = (phase: string) => [...times.ms.keys()].filter((p) => nested(p) && phase.startsWith(p.split("/")[0]!));
const order = [...times.ms.keys()].filter((p) => !nested(p)).flatMap((p) => [p, ...partsOf(p)]);
const rows = order.map((phase) => { const ms = times.ms.get(phase)!; return { phase, ms, perStep: ms / settings.iterations, share: ms / cpuMs }; });
const accounted = rows.filter((r) => !nested(r.phase)).reduce((s, r) => s + r.ms, 0);
const result = {
  volume: name, block: job.block.shape, at, iterations: settings.iterations, bytes: bytes?.length ?? 0, total_ms: total, cpu_ms: cpuMs,
  phases: Object.fromEntries(rows.map((r) => [r.phase, Number(r.ms.toFixed(1))])),
  unaccounted_ms: cpuMs - accounted, structured_clone_ms: copy, empty_block_ms: emptyMs,
};
if (args.includes("--json")) console.log(JSON.stringify(result));
else {
  console.log(`${name}: block ${job.block.shape.join("×")} at [${at.join(", ")}], ${settings.iterations} iterations, ${result.bytes} bytes, ${(total / 1000).toFixed(2)} s (CPU ${(cpuMs / 1000).toFixed(2)} s)`);
  console.log("| phase | CPU ms | ms per step | share |\n| --- | ---: | ---: | ---: |");
  for (const r of rows) console.log(`| ${nested(r.phase) ? `  ↳ ${r.phase.split("/")[1]}` : r.phase} | ${r.ms.toFixed(1)} | ${r.perStep.toFixed(3)} | ${(100 * r.share).toFixed(1)} % |`);
  console.log(`| other (fitter bookkeeping) | ${result.unaccounted_ms.toFixed(1)} | | ${(100 * result.unaccounted_ms / cpuMs).toFixed(1)} % |`);
  console.log(`structured clone of the job (what a worker message copies): ${copy.toFixed(2)} ms; empty block (gate + background chunk): ${emptyMs.toFixed(3)} ms`);
}
