/**
 * `node --import tsx bench/parallel-ceiling.ts [--rounds 5] [--kernels compute,l2,l3,stream,alloc,fit] [--procs]`:
 * what two worker threads can get from this machine's two vCPUs, before any of our scheduling. Each
 * kernel runs the same fixed work (a) alone in one worker thread and (b) in two worker threads at
 * once, the two cases interleaved round by round (order alternating) so that other users' load
 * falls on both; per thread it reports on-CPU milliseconds (/proc/thread-self/schedstat, ns),
 * milliseconds waiting for a CPU (the same file's run-queue time: other load), minor page faults,
 * wall, and the process's CPU over the run (process.cpuUsage: the runner's thread plus V8's shared
 * helper threads — concurrent compiler, GC — and, in a pair, the other runner too). A kernel whose
 * per-thread CPU grows when two run together loses to shared hardware (SMT siblings, shared cache
 * or memory bandwidth), not to our code: its ratio bounds the speed-up of two fit threads.
 * `--procs`: the two runners are child processes instead of threads of one process (what threads
 * share and processes do not: V8's helper threads, the allocator, the address space).
 * Kernels:
 *  - compute: multiply-add and Math.exp over a 32 KB Float64Array (registers and L1);
 *  - l2: the same sweep over 384 KB (inside one core's L2);
 *  - l3: a read-modify-write sweep over 8 MiB (past L2, inside the shared L3);
 *  - stream: the same over 256 MiB (past every cache: memory bandwidth);
 *  - alloc: short-lived typed arrays and objects (young-generation GC in each isolate);
 *  - fit: fitChunk of one 32³ block of trailmap at the store's default steps (bench:scale --quick's
 *    blocks), after one warm-up fit per thread whose CPU is reported too (JIT and first-touch).
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

interface Task { kernel: string; reps: number }
interface Sample { cpuMs: number; processCpuMs: number; waitMs: number; wallMs: number; minorFaults: number; check: number }

/** This thread's on-CPU and run-queue-wait nanoseconds (Linux schedstat) and its minor page faults. */
function schedNs(): { cpu: number; wait: number; faults: number } {
  const [cpu, wait] = readFileSync("/proc/thread-self/schedstat", "utf8").trim().split(" ").map(Number);
  const stat = readFileSync("/proc/thread-self/stat", "utf8");
  return { cpu: cpu!, wait: wait!, faults: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[7]) };
}

function sweep(a: Float64Array, reps: number): number {
  let acc = 0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      a[i] = v * 0.999999 + Math.exp(-v * 1e-3) * 1e-6;
      acc += v;
    }
  }
  return acc;
}

function stream(a: Float64Array, reps: number): number {
  let acc = 0;
  for (let r = 0; r < reps; r++) for (let i = 0; i < a.length; i++) { const v = a[i]!; a[i] = v * 0.999999 + 1e-9; acc += v; }
  return acc;
}

function alloc(reps: number): number {
  let acc = 0;
  for (let r = 0; r < reps; r++) {
    const t = new Float64Array(64 + (r & 255));
    const o = { x: r, y: t, z: [r, r + 1] };
    t[r & 63] = o.x;
    acc += t[r & 63]! + o.z[1]!;
  }
  return acc;
}

/** Serves tasks on this thread: a worker thread's (port: parentPort) or a child process's (port: process). */
async function serve(port: { on(e: "message", f: (t: Task) => void): unknown; postMessage(m: unknown): void }): Promise<void> {
  const arrays = new Map<string, Float64Array>();
  const array = (name: string, doubles: number) => {
    let a = arrays.get(name);
    if (!a) { a = new Float64Array(doubles).fill(1.5); arrays.set(name, a); }
    return a;
  };
  let fitJob: (() => Promise<number>) | undefined;
  port.on("message", async (t: Task) => {
    if (t.kernel === "fit" && !fitJob) {
      const { openVolume } = await import("../src/node/open-volume.js");
      const { blockJobAt } = await import("./block-job.js");
      const { robustMapping } = await import("../src/fit/prepare.js");
      const { fitChunk } = await import("../src/store/block-fit.js");
      const { DEFAULT_STORE_ITERATIONS } = await import("../src/store/plan.js");
      const { DATA_DIR } = await import("./bench-volumes.js");
      const v = await openVolume(`${DATA_DIR}trailmap_lightsheet_axons_303x303x303_u16.tif`);
      const mapping = robustMapping(v, "trailmap");
      fitJob = async () => {
        // a fresh job each time: fitChunk may take over the block's buffer
        const job = blockJobAt(v, [135, 119, 151], { chunk: 32, halo: 0, bpp: 0.073, iterations: DEFAULT_STORE_ITERATIONS }, mapping);
        return (await fitChunk(job))?.length ?? 0;
      };
    }
    const s0 = schedNs(), w0 = performance.now(), p0 = process.cpuUsage();
    let check = 0;
    if (t.kernel === "compute") check = sweep(array("compute", 4096), t.reps);
    else if (t.kernel === "l2") check = sweep(array("l2", 49152), t.reps);
    else if (t.kernel === "l3") check = stream(array("l3", 1 << 20), t.reps);
    else if (t.kernel === "stream") check = stream(array("stream", 1 << 25), t.reps);
    else if (t.kernel === "alloc") check = alloc(t.reps);
    else if (t.kernel === "fit") for (let r = 0; r < t.reps; r++) check += await fitJob!();
    const s1 = schedNs(), p1 = process.cpuUsage(p0);
    port.postMessage({ cpuMs: (s1.cpu - s0.cpu) / 1e6, processCpuMs: (p1.user + p1.system) / 1000, waitMs: (s1.wait - s0.wait) / 1e6, wallMs: performance.now() - w0, minorFaults: s1.faults - s0.faults, check } satisfies Sample);
  });
  port.postMessage("ready");
}

/** Work per kernel so that one run takes roughly a second of CPU. */
const REPS: Record<string, number> = { compute: 25000, l2: 2000, l3: 500, stream: 10, alloc: 800_000, fit: 2 };

/** One of the two runners: a worker thread of this process, or a child process (`--procs`). */
interface Runner { once(t: Task): Promise<Sample>; close(): Promise<unknown> }

function threadRunner(): Promise<Runner> {
  const w = new Worker(new URL("../src/node/worker-boot.mjs", import.meta.url), { workerData: { entry: import.meta.url } });
  return new Promise((resolve, reject) => {
    w.once("error", reject);
    w.once("message", () => resolve({
      once: (t) => new Promise((r) => { w.once("message", r); w.postMessage(t); }),
      close: () => w.terminate(),
    }));
  });
}

function processRunner(): Promise<Runner> {
  const c = fork(fileURLToPath(import.meta.url), ["--child"], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    c.once("error", reject);
    c.once("message", () => resolve({
      once: (t) => new Promise((r) => { c.once("message", (m) => r(m as Sample)); c.send(t); }),
      close: () => new Promise((r) => { c.once("exit", r); c.kill(); }),
    }));
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, d: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : d; };
  const rounds = Number(flag("rounds", "5"));
  const kernels = flag("kernels", "compute,l2,l3,stream,alloc,fit").split(",");
  // --procs: the two runners are processes, not threads of one (what the threads share, a process's do not: its heap's page tables, allocator, V8's platform threads)
  const procs = args.includes("--procs");
  const start = procs ? processRunner : threadRunner;
  const [a, b] = [await start(), await start()];
  const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
  const f = (x: number) => x.toFixed(0);
  const what = procs ? "process" : "thread";
  console.log(`parallel ceiling (${procs ? "processes" : "threads"}): ${rounds} rounds per kernel, 1 ${what} alone and 2 at once interleaved; load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const summary: Record<string, unknown> = {};
  for (const kernel of kernels) {
    const reps = REPS[kernel]!;
    // warm-up, one runner at a time: each compiles the kernel (and, for fit, reads the volume first); the fit's first CPU is its JIT cost
    const warm = [await a.once({ kernel, reps: 1 }), await b.once({ kernel, reps: 1 })];
    const solo: Sample[] = [], pair: Sample[] = [], loads: number[] = [];
    for (let r = 0; r < rounds; r++) {
      loads.push(loadavg()[0]!);
      const runSolo = async () => solo.push(await (r % 2 ? b : a).once({ kernel, reps }));
      const runPair = async () => pair.push(...(await Promise.all([a.once({ kernel, reps }), b.once({ kernel, reps })])));
      if (r % 2) { await runPair(); await runSolo(); } else { await runSolo(); await runPair(); }
    }
    const m = (xs: Sample[], k: keyof Sample) => med(xs.map((s) => s[k]));
    const line = {
      kernel, runners: what, reps, solo_cpu_ms: m(solo, "cpuMs"), pair_cpu_ms: m(pair, "cpuMs"), cpu_ratio: m(pair, "cpuMs") / m(solo, "cpuMs"),
      solo_wall_ms: m(solo, "wallMs"), pair_wall_ms: m(pair, "wallMs"), solo_wait_ms: m(solo, "waitMs"), pair_wait_ms: m(pair, "waitMs"),
      solo_minor_faults: m(solo, "minorFaults"), pair_minor_faults: m(pair, "minorFaults"),
      // the runner's process while it ran (both runners' when two ran at once): its thread plus V8's shared helpers (compiler, GC) and the idle main thread
      solo_process_cpu_ms: m(solo, "processCpuMs"), pair_process_cpu_ms: m(pair, "processCpuMs"),
      warm_up_cpu_ms: warm.map((s) => s.cpuMs), warm_up_process_cpu_ms: warm.map((s) => s.processCpuMs), load_1min: loads,
    };
    summary[kernel] = line;
    console.log(`${kernel.padEnd(8)} per-${what} CPU ms: alone ${f(line.solo_cpu_ms)} [${solo.map((s) => f(s.cpuMs)).join(" ")}], two at once ${f(line.pair_cpu_ms)} [${pair.map((s) => f(s.cpuMs)).join(" ")}] → ×${line.cpu_ratio.toFixed(3)}; wall ${f(line.solo_wall_ms)} / ${f(line.pair_wall_ms)}; run-queue wait ${f(line.solo_wait_ms)} / ${f(line.pair_wait_ms)}; minor faults ${line.solo_minor_faults} / ${line.pair_minor_faults}; process CPU ms ${f(line.solo_process_cpu_ms)} / ${f(line.pair_process_cpu_ms)}; warm-up CPU ${warm.map((s) => f(s.cpuMs)).join(", ")} (process ${warm.map((s) => f(s.processCpuMs)).join(", ")}) (${reps > 1 ? `1 of ${reps} reps` : "1 rep"}); load ${loads.map((l) => l.toFixed(1)).join(" ")}`);
  }
  console.log(JSON.stringify(summary));
  await Promise.all([a.close(), b.close()]);
}

if (process.argv.includes("--child")) await serve({ on: (e, f) => process.on(e, f), postMessage: (m) => process.send!(m) });
else if (!isMainThread && workerData?.entry) await serve(parentPort!);
else await main();
