/**
 * `node --import tsx bench/decode-cpu.ts [--json] [--volumes a,b] [--iterations K] [--any-fit-version] [--paths js,wasm]`:
 * bench:decode's figures in CPU time, for a shared machine, where wall time mostly measures the
 * neighbours (at load 10 on 2 cores a 64³ chunk's wall-time median moved 2–3× between runs of the
 * same code). Same cached fits and HEVC streams as bench:decode. Per volume, one JSON line
 * `{"volume","voxels","gaussians","full_cpu_ms","mvox_per_cpu_s","chunk64_median_cpu_ms","chunk64_p95_cpu_ms","hevc_cpu_ms","hevc_mvox_per_cpu_s","vs_hevc"}`:
 *  - full_cpu_ms: the whole volume in DecodePool's z-slab tiles, decoded on this thread (the CPU a
 *    pool spends, less its messages), least of 3 passes;
 *  - chunk64_*: every 64³-aligned chunk (a fixed sample of 200 beyond that), each chunk's least of
 *    3 passes, one thread, after the per-file setup;
 *  - hevc_cpu_ms: user + system time of ffmpeg's whole process (all its threads) decoding the HEVC
 *    stream of the same volume at the same bytes into raw 12-bit frames, as bench/decode-cli.ts runs
 *    it, least of 3 after a warm-up (null without ffmpeg/libx265 or /usr/bin/time);
 *  - vs_hevc = hevc_cpu_ms / full_cpu_ms: how many times less CPU the `.vmg` decode needs;
 *  - path: the decoder's path that ran ("js" or "wasm"; `--paths` runs each given one, default
 *    both where the WebAssembly SIMD kernel is built, their passes interleaved in one process).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Box } from "../src/core/background.js";
import { fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { installedWasmKernel } from "../src/decode/wasm-kernel.js";
import { readVmg } from "../src/format/vmg.js";
import { tileSlices } from "../src/node/decode-pool.js"; // also installs the WebAssembly kernel
import { alignedChunks, demoBlock, manifestVolumes } from "./bench-volumes.js";
import { unpackStream } from "./codecs/codec.js";
import { cachedFit, cachedHevc } from "./stream-cache.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const only = flag("--volumes")?.split(",");
const iterations = flag("--iterations") !== undefined ? Number(flag("--iterations")) : undefined;
const anyFitterVersion = args.includes("--any-fit-version");
const paths = (flag("--paths")?.split(",") ?? (installedWasmKernel() ? ["js", "wasm"] : ["js"])) as Array<"js" | "wasm">;
const log = (s: string) => { if (json) process.stderr.write(s + "\n"); else console.log(s); };
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => { const s = sorted(xs); return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!; };
const round = (x: number) => Math.round(x * 1000) / 1000;

/** ffmpeg's CPU milliseconds (user + system, all threads) for the stream, least of 3 after a warm-up; null when it cannot be measured. */
function ffmpegCpuMs(payload: Uint8Array): number | null {
  if (!existsSync("/usr/bin/time")) return null;
  const dir = mkdtempSync(join(tmpdir(), "vmg-bench-decode-cpu-"));
  try {
    writeFileSync(join(dir, "stream.hevc"), payload);
    let best = Infinity;
    for (let i = 0; i < 4; i++) {
      const r = spawnSync("/usr/bin/time", ["-f", "%U %S", "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "hevc", "-i", "stream.hevc", "-f", "rawvideo", "-pix_fmt", "gray12le", "out.raw"], { cwd: dir });
      const [user, sys] = (r.stderr.toString().trim().split("\n").pop() ?? "").split(" ").map(Number);
      if (r.status !== 0 || !Number.isFinite(user) || !Number.isFinite(sys)) return null;
      if (i > 0) best = Math.min(best, (user! + sys!) * 1000);
    }
    return best;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(", ")} (${availableParallelism()} cores)`);
for (const v of [...manifestVolumes(iterations), demoBlock()].filter((b) => !only || only.includes(b.name))) {
  const volume = await v.load();
  const fit = await cachedFit(volume, v.name, v.settings, log, anyFitterVersion);
  const file = readVmg(fit.bytes);
  const decoders = paths.map((p) => new VmgDecoder(file, p));
  for (const d of decoders) d.scale([1, 1, 1]); // per-file setup, once
  const shape = file.header.shape, voxels = shape[0] * shape[1] * shape[2];
  const whole = fullBox(shape);
  const slab = tileSlices(whole, availableParallelism());
  const tiles: Box[] = [];
  for (let z0 = 0; z0 < shape[0]; z0 += slab) tiles.push({ ...whole, z0, z1: Math.min(shape[0], z0 + slab) });
  const chunks = alignedChunks(shape, 200);
  const scratch = new Float32Array(Math.max(slab * shape[1] * shape[2], 64 ** 3));
  for (const d of decoders) for (const b of chunks.slice(0, 8)) d.decode(b, undefined, undefined, scratch); // JIT warm-up
  const full = decoders.map(() => Infinity);
  const chunkMs = decoders.map(() => chunks.map(() => Infinity));
  for (let pass = 0; pass < 3; pass++) decoders.forEach((decoder, p) => {
    chunks.forEach((b, i) => { const t = cpuMs(); decoder.decode(b, undefined, undefined, scratch); chunkMs[p]![i] = Math.min(chunkMs[p]![i]!, cpuMs() - t); });
    const t = cpuMs();
    for (const b of tiles) decoder.decode(b, undefined, undefined, scratch);
    full[p] = Math.min(full[p]!, cpuMs() - t);
  });
  const stream = await cachedHevc(volume, v.name, fit.bytes.length, log);
  const hevc = stream ? ffmpegCpuMs(unpackStream(stream.bytes).payload) : null;
  decoders.forEach((decoder, p) => {
    const row = {
      volume: v.name, path: decoder.lastPath, voxels, gaussians: file.count, full_cpu_ms: round(full[p]!), mvox_per_cpu_s: round(voxels / 1e3 / full[p]!),
      chunk64_median_cpu_ms: round(quantile(chunkMs[p]!, 0.5)), chunk64_p95_cpu_ms: round(quantile(chunkMs[p]!, 0.95)),
      hevc_cpu_ms: hevc === null ? null : round(hevc), hevc_mvox_per_cpu_s: hevc === null ? null : round(voxels / 1e3 / hevc),
      vs_hevc: hevc === null ? null : round(hevc / full[p]!),
    };
    if (json) console.log(JSON.stringify(row));
    log(`${v.name} [${row.path}]: ${file.count} Gaussians | full decode ${row.full_cpu_ms} CPU ms (${row.mvox_per_cpu_s} MVox per CPU-s) | 64³ chunk median ${row.chunk64_median_cpu_ms} CPU ms, p95 ${row.chunk64_p95_cpu_ms} | ` +
      (hevc === null ? "HEVC: not measured" : `ffmpeg HEVC ${row.hevc_cpu_ms} CPU ms: .vmg needs ${row.vs_hevc}× less`));
  });
}
log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);
