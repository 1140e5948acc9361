/**
 * `node --import tsx bench/decode-cli.ts [--json] [--volumes a,b] [--runs N] [--iterations K] [--any-fit-version]`:
 * the whole process, as a user runs it. Per volume of bench:decode (the same cached fits and HEVC
 * streams), `hyperfine -N` times `vmg decode fit.vmg -o out.tif` (the compiled CLI, built first)
 * against ffmpeg's decode of the HEVC stream of the same volume at the same bytes into raw 12-bit
 * frames (bench:decode's x265 decode, less its conversion in Node), and `vmg info fit.vmg` and
 * `node -e 0` (node's own start) beside them, each after a warm-up run, `--runs` N (default 5).
 * One JSON line per volume: `{"volume","voxels","vmg_decode_s","ffmpeg_decode_s","ratio",
 * "vmg_median_s","ffmpeg_median_s","vmg_cpu_s","ffmpeg_cpu_s","cpu_ratio","info_median_s",
 * "info_cpu_s","node_start_median_s","load"}`: `*_decode_s` and `ratio` are mean wall seconds
 * (as before), `*_median_s` median wall, `*_cpu_s` mean user + system CPU seconds of the whole
 * process (all its threads: hyperfine has no per-run CPU), `load` the 1-minute load average
 * before the volume's runs. Needs hyperfine and ffmpeg with libx265 on the PATH.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildCli } from "../scripts/build-cli.js";
import { anyFitterVersion, benchVolumes, json, log, runs, VMG } from "./cli-bench-args.js";
import { unpackStream } from "./codecs/codec.js";
import { cachedFit, cachedHevc } from "./stream-cache.js";


interface Timing { mean: number; median: number; cpu: number }

/** Wall (mean, median) and mean CPU seconds of each command, `hyperfine -N` after one warm-up run. */
function hyperfine(dir: string, commands: string[]): Timing[] {
  const out = join(dir, "hyperfine.json");
  execFileSync("hyperfine", ["-N", "--warmup", "1", "--runs", String(runs), "--export-json", out, ...commands], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  const { results } = JSON.parse(readFileSync(out, "utf8")) as { results: { mean: number; median: number; user: number; system: number }[] };
  return results.map((r) => ({ mean: r.mean, median: r.median, cpu: r.user + r.system }));
}

await buildCli();
log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);
for (const v of benchVolumes()) {
  const volume = await v.load();
  const fit = await cachedFit(volume, v.name, v.settings, log, anyFitterVersion);
  const stream = await cachedHevc(volume, v.name, fit.bytes.length, log);
  if (!stream) { log(`${v.name}: ffmpeg with libx265 not found`); continue; }
  const dir = mkdtempSync(join(tmpdir(), "vmg-bench-decode-cli-"));
  try {
    writeFileSync(join(dir, "fit.vmg"), fit.bytes);
    writeFileSync(join(dir, "stream.hevc"), unpackStream(stream.bytes).payload);
    const load = loadavg()[0]!;
    const [vmg, ffmpeg, info, node] = hyperfine(dir, [
      `node ${VMG} decode fit.vmg -o out.tif --quiet`,
      "ffmpeg -hide_banner -loglevel error -y -f hevc -i stream.hevc -f rawvideo -pix_fmt gray12le out.raw",
      `node ${VMG} info fit.vmg`,
      "node -e 0",
    ]) as [Timing, Timing, Timing, Timing];
    const row = {
      volume: v.name, voxels: volume.data.length, vmg_decode_s: round(vmg.mean), ffmpeg_decode_s: round(ffmpeg.mean), ratio: round(vmg.mean / ffmpeg.mean),
      vmg_median_s: round(vmg.median), ffmpeg_median_s: round(ffmpeg.median), vmg_cpu_s: round(vmg.cpu), ffmpeg_cpu_s: round(ffmpeg.cpu), cpu_ratio: round(vmg.cpu / ffmpeg.cpu),
      info_median_s: round(info.median), info_cpu_s: round(info.cpu), node_start_median_s: round(node.median), load: round(load),
    };
    if (json) console.log(JSON.stringify(row));
    log(`${v.name} (load ${load.toFixed(1)}): vmg decode ${ms(vmg.median)} ms median wall, ${ms(vmg.cpu)} ms CPU; ffmpeg ${ms(ffmpeg.median)} ms, ${ms(ffmpeg.cpu)} ms CPU: ${round(vmg.median / ffmpeg.median)}× wall, ${row.cpu_ratio}× CPU; vmg info ${ms(info.median)} ms (${ms(info.cpu)} CPU); node -e 0 ${ms(node.median)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);

function ms(s: number): string {
  return (s * 1000).toFixed(0);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
