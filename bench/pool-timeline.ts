/**
 * `node --import tsx bench/pool-timeline.ts [--threads 1,2] [--chunk 32] [--iterations 200]`: where
 * the block pool's threads spend a run — bench:scale --quick's input (trailmap's central
 * 64×128×128 crop) cut into level-0 chunk jobs, fitted on BlockPool with 1 and then 2 threads: per
 * block its thread slot, start and end (ms from the run's start), the idle tail, and per OS thread
 * of the process its CPU seconds (/proc/self/task: the fit threads, V8's GC and compiler helpers,
 * the main thread), so a lost speed-up shows as a tail, a serial main thread or helper threads.
 */
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { BlockPool } from "../src/node/block-pool.js";
import { openVolume } from "../src/node/open-volume.js";
import { robustMapping } from "../src/fit/prepare.js";
import type { Shape3 } from "../src/core/gaussian.js";
import { allocVoxels } from "../src/core/dtype.js";
import { DEFAULT_HALO } from "../src/store/plan.js";
import { blockJobAt, chunkOrigins } from "./block-job.js";
import { DATA_DIR } from "./bench-volumes.js";

const args = process.argv.slice(2);
const flag = (name: string, d: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : d; };
const threadCounts = flag("threads", "1,2").split(",").map(Number);
const chunk = Number(flag("chunk", "32")), iterations = Number(flag("iterations", "200"));

/** CPU seconds per OS thread name of this process. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const name = readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const s = (Number(f[11]) + Number(f[12])) / 100;
      const key = `${name}#${tid}`;
      out.set(key, s);
    } catch { /* thread gone */ }
  }
  return out;
}

const trailmap = await openVolume(`${DATA_DIR}trailmap_lightsheet_axons_303x303x303_u16.tif`);
const at0: Shape3 = [119, 87, 87], cropShape: Shape3 = [64, 128, 128];
const crop = { shape: cropShape, dtype: trailmap.dtype, data: allocVoxels(trailmap.dtype, 64 * 128 * 128) };
for (let z = 0; z < 64; z++) for (let y = 0; y < 128; y++) {
  const from = ((at0[0] + z) * 303 + at0[1] + y) * 303 + at0[2];
  crop.data.set(trailmap.data.subarray(from, from + 128) as never, (z * 128 + y) * 128);
}
const mapping = robustMapping(crop, "crop");
const origins = chunkOrigins(cropShape, chunk);
const settings = { chunk, halo: DEFAULT_HALO, bpp: 0.073, iterations };
for (const threads of threadCounts) {
  const pool = await BlockPool.start(threads);
  const before = threadCpu(), load = loadavg()[0]!;
  const t0 = performance.now(), c0 = process.cpuUsage();
  const starts: number[] = [], ends: number[] = [];
  await pool.fitChunks(origins.length, (i) => { starts[i] = performance.now() - t0; return blockJobAt(crop, origins[i]!, settings, mapping); }, async (i) => { ends[i] = performance.now() - t0; });
  const wall = (performance.now() - t0) / 1000, cu = process.cpuUsage(c0);
  const after = threadCpu();
  await pool.close();
  const lastStart = Math.max(...starts), end = Math.max(...ends);
  const durations = ends.map((e, i) => e - starts[i]!);
  console.log(`threads ${threads} [load ${load.toFixed(2)}]: wall ${wall.toFixed(2)} s, CPU ${((cu.user + cu.system) / 1e6).toFixed(2)} s; last block started at ${(lastStart / 1000).toFixed(2)} s; block ms min/median/max ${Math.min(...durations).toFixed(0)}/${[...durations].sort((a, b) => a - b)[durations.length >> 1]!.toFixed(0)}/${Math.max(...durations).toFixed(0)}; tail after the last start ${((end - lastStart) / 1000).toFixed(2)} s`);
  console.log("  blocks (start–end ms): " + durations.map((d, i) => `${i}:${starts[i]!.toFixed(0)}+${d.toFixed(0)}`).join(" "));
  const per = [...after].map(([k, s]) => [k, s - (before.get(k) ?? 0)] as const).filter(([, s]) => s > 0.01).sort((a, b) => b[1] - a[1]);
  console.log("  thread CPU s: " + per.map(([k, s]) => `${k} ${s.toFixed(2)}`).join(", "));
}
