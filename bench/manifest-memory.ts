/**
 * Memory a block task holds for its run's plan (issue #15), on a synthetic run of about `--jobs`
 * chunk jobs (bench/synthetic-run.ts):
 *   - a `vmg compress … --blocks 0/S` task that fits 4 of its jobs: peak RSS of the process, threads included;
 *   - a queue worker's fit thread, as its sandboxed processor runs 4 fit jobs (runFitJob, in a
 *     process of its own): peak RSS, and the heap it keeps after a GC.
 * `node --expose-gc --import tsx bench/manifest-memory.ts [--jobs N] [--json]` prints one line per size (default 10^3 and 10^6).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHUNK, SYNTHETIC_ARGS, syntheticRun } from "./synthetic-run.js";

const PER_TASK = 4;
const root = fileURLToPath(new URL("..", import.meta.url));

async function measure(edge: number) {
  const dir = await mkdtemp(join(tmpdir(), "vmg-manifest-mem-"));
  try {
    const r = await syntheticRun(dir, edge);
    // 4 jobs in the task's share, all of level 0 (3 shares < its jobs): the task needs no level scratch, which --plan-only writes
    const share = Math.ceil(r.jobs / PER_TASK);
    if (3 * share + 1 >= r.level0) throw new Error("the share reaches past level 0");
    const t0 = process.hrtime.bigint();
    const t = spawnSync(process.execPath, [join(root, "scripts/peak-rss.mjs"), "compress", r.input, "-o", r.store, ...SYNTHETIC_ARGS, "--threads", "1", "--json", "--blocks", `0/${share}`], { encoding: "utf8" });
    const taskSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (t.status !== 0) throw new Error(t.stderr);
    const f = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), "--fit-thread", r.store, r.input, r.plan, String(share)], { encoding: "utf8", cwd: root });
    if (f.status !== 0) throw new Error(f.stderr);
    const thread = JSON.parse(f.stdout.trim().split("\n").at(-1)!);
    return { jobs: r.jobs, blocks_task_peak_rss_mb: Number(/peak_rss_mb ([\d.]+)/.exec(t.stderr)![1]), blocks_task_seconds: taskSeconds, fit_thread_peak_rss_mb: thread.peak_rss_mb, fit_thread_heap_mb: thread.heap_mb };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A queue worker's fit thread, as its sandboxed processor runs jobs: 4 fit jobs of the run (not the task's), then its heap after a GC. */
async function fitThread(store: string, input: string, plan: string, share: number): Promise<void> {
  const { runFitJob } = await import("../src/queue/jobs.js");
  for (let i = 0; i < PER_TASK; i++) await runFitJob({ store, input, read: {} }, { k: 1 + i * share, plan });
  (globalThis as { gc?: () => void }).gc?.();
  console.log(JSON.stringify({ peak_rss_mb: process.resourceUsage().maxRSS / 1024, heap_mb: process.memoryUsage().heapUsed / 2 ** 20 }));
}

const argv = process.argv.slice(2);
if (argv[0] === "--fit-thread") await fitThread(argv[1]!, argv[2]!, argv[3]!, Number(argv[4]));
else {
  const at = argv.indexOf("--jobs");
  for (const n of at >= 0 ? [Number(argv[at + 1])] : [1e3, 1e6]) {
    const line = await measure(CHUNK * Math.round(Math.cbrt(n)));
    console.log(argv.includes("--json") ? JSON.stringify(line) : `${line.jobs} jobs: --blocks task ${line.blocks_task_peak_rss_mb} MB peak RSS (${line.blocks_task_seconds.toFixed(1)} s); fit thread ${line.fit_thread_peak_rss_mb.toFixed(1)} MB peak RSS, ${line.fit_thread_heap_mb.toFixed(1)} MB heap kept`);
  }
}
