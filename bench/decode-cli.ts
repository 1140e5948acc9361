/**
 * `node --import tsx bench/decode-cli.ts [--json] [--volumes a,b] [--runs N] [--iterations K] [--any-fit-version]`:
 * the whole process, as a user runs it. Per volume of bench:decode (the same cached fits and HEVC
 * streams), `hyperfine -N` times `vmg decode fit.vmg -o out.tif` (the compiled CLI, built first)
 * against ffmpeg's decode of the HEVC stream of the same volume at the same bytes into raw 12-bit
 * frames (bench:decode's x265 decode, less its conversion in Node), each after a warm-up run.
 * One JSON line per volume: `{"volume","voxels","vmg_decode_s","ffmpeg_decode_s","ratio"}` (mean
 * seconds; ratio = vmg / ffmpeg). Needs hyperfine and ffmpeg with libx265 on the PATH.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCli } from "../scripts/build-cli.js";
import { demoBlock, manifestVolumes } from "./bench-volumes.js";
import { unpackStream } from "./codecs/codec.js";
import { cachedFit, cachedHevc } from "./stream-cache.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const only = flag("--volumes")?.split(",");
const runs = Number(flag("--runs") ?? 5);
const iterations = flag("--iterations") !== undefined ? Number(flag("--iterations")) : undefined;
const anyFitterVersion = args.includes("--any-fit-version");
// with --json, stdout holds only the JSON lines and the readable report goes to stderr
const log = (s: string) => { if (json) process.stderr.write(s + "\n"); else console.log(s); };
const VMG = fileURLToPath(new URL("../bin/vmg.mjs", import.meta.url));

/** Mean seconds of each command, `hyperfine -N` after one warm-up run. */
function hyperfine(dir: string, commands: string[]): number[] {
  const out = join(dir, "hyperfine.json");
  execFileSync("hyperfine", ["-N", "--warmup", "1", "--runs", String(runs), "--export-json", out, ...commands], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  const { results } = JSON.parse(readFileSync(out, "utf8")) as { results: { mean: number }[] };
  return results.map((r) => r.mean);
}

await buildCli();
log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);
for (const v of [...manifestVolumes(iterations), demoBlock()].filter((b) => !only || only.includes(b.name))) {
  const volume = await v.load();
  const fit = await cachedFit(volume, v.name, v.settings, log, anyFitterVersion);
  const stream = await cachedHevc(volume, v.name, fit.bytes.length, log);
  if (!stream) { log(`${v.name}: ffmpeg with libx265 not found`); continue; }
  const dir = mkdtempSync(join(tmpdir(), "vmg-bench-decode-cli-"));
  try {
    writeFileSync(join(dir, "fit.vmg"), fit.bytes);
    writeFileSync(join(dir, "stream.hevc"), unpackStream(stream.bytes).payload);
    const [vmgS, ffmpegS] = hyperfine(dir, [
      `node ${VMG} decode fit.vmg -o out.tif --quiet`,
      "ffmpeg -hide_banner -loglevel error -y -f hevc -i stream.hevc -f rawvideo -pix_fmt gray12le out.raw",
    ]) as [number, number];
    const row = { volume: v.name, voxels: volume.data.length, vmg_decode_s: round(vmgS), ffmpeg_decode_s: round(ffmpegS), ratio: round(vmgS / ffmpegS) };
    if (json) console.log(JSON.stringify(row));
    log(`${v.name}: vmg decode ${(vmgS * 1000).toFixed(0)} ms, ffmpeg ${(ffmpegS * 1000).toFixed(0)} ms: ${row.ratio}×`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
