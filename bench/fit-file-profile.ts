/**
 * `node --import tsx bench/fit-file-profile.ts [--volume NAME] [--iterations 600] [--bpp 0.073] [--json]`:
 * where a single-file fit spends its time, on the JavaScript path and on the WebAssembly kernel
 * (src/fit/objective.ts FitKernelPath), the two fits interleaved in one process (js, wasm, js, wasm).
 * One thread (the local engine); phases in CPU time (process.cpuUsage), as bench/fit-profile.ts.
 */
import { fileURLToPath } from "node:url";
import "../src/node/wasm-kernel.js";
import { fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { installedWasmKernel } from "../src/decode/wasm-kernel.js";
import { LocalEngine, SLAB_VOXELS } from "../src/fit/engine.js";
import { fitVolume } from "../src/fit/fitter.js";
import type { FitKernelPath } from "../src/fit/objective.js";
import { PhaseTimes } from "../src/fit/profile.js";
import { evaluate } from "../src/metrics/evaluate.js";
import { openVolume } from "../src/node/open-volume.js";

const args = process.argv.slice(2);
const flag = (name: string, d: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : d; };
const name = flag("volume", "diadem_OP9_crop_92x77x86_u8");
const iterations = Number(flag("iterations", "600"));
const bpp = Number(flag("bpp", "0.073"));
if (!installedWasmKernel()) throw new Error("no WebAssembly kernel installed (build it: node --import tsx scripts/build-cli.ts; unset VMG_DECODE_KERNEL)");
const volume = await openVolume(fileURLToPath(new URL(`../../shared/data/${name}.tif`, import.meta.url)));
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

async function run(path: FitKernelPath) {
  const times = new PhaseTimes(cpuNow);
  const c0 = cpuNow();
  const r = await fitVolume(volume, { budget: { bpp }, iterations, profile: times, engine: async (t) => new LocalEngine(t, SLAB_VOXELS, times, path) });
  const cpuMs = cpuNow() - c0;
  const psnr = evaluate(volume.data, new VmgDecoder(r.file, "js").decode(fullBox(volume.shape)), volume.shape).psnr;
  return { volume: name, path: path === "js" ? "js" : "wasm", iterations, gaussians: r.file.count, bytes: r.bytes.length, psnr, cpu_ms: cpuMs, phases: Object.fromEntries([...times.ms].map(([p, ms]) => [p, Number(ms.toFixed(1))])) };
}

const results = [];
for (const path of ["js", "wasm", "js", "wasm"] as const) results.push(await run(path));
if (args.includes("--json")) for (const r of results) console.log(JSON.stringify(r));
else {
  const phases = [...new Set(results.flatMap((r) => Object.keys(r.phases)))];
  console.log(`${name}, ${iterations} steps, one thread; CPU ms per phase, runs in order`);
  console.log(`| phase | ${results.map((r) => r.path).join(" | ")} |\n| --- |${results.map(() => " ---: |").join("")}`);
  for (const p of phases) console.log(`| ${p} | ${results.map((r) => (r.phases[p] ?? 0).toFixed(0)).join(" | ")} |`);
  console.log(`| total CPU ms | ${results.map((r) => r.cpu_ms.toFixed(0)).join(" | ")} |`);
  console.log(`| PSNR dB | ${results.map((r) => r.psnr.toFixed(3)).join(" | ")} |`);
}
