/**
 * `node --import tsx bench/decode-cli-profile.ts [--json] [--volumes a,b] [--runs N] [--iterations K] [--any-fit-version]`:
 * where the whole `vmg decode fit.vmg -o out.tif` and `vmg info fit.vmg` processes spend their
 * time. Each run is a fresh process of the compiled CLI under `node --cpu-prof`; every sample is
 * given to the innermost frame that the bundle's source maps place in one of our source files,
 * and that file (and function) names its phase. Samples with no such frame are node's own: its
 * start after bootstrap, loading and compiling the bundle's modules, exit. Median ms per phase of
 * N runs (default 5). One JSON line per volume and command:
 * `{"volume","command","runs","profiled_ms","phases_ms":{phase: ms}}`. The profiler's sampling
 * stretches everything (≈ 1.3–1.6×): compare shares and runs of one build, not these ms with
 * bench:decode-cli's. What runs before the profiler starts (node's bootstrap, ~40–60 ms) is not
 * in it: bench:decode-cli times `node -e 0` beside the CLI.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCli } from "../scripts/build-cli.js";
import { anyFitterVersion, benchVolumes, json, log, runs, VMG } from "./cli-bench-args.js";
import { cachedFit } from "./stream-cache.js";


/** Phase of a sample whose innermost own frame is function `fn` of source `src` (a path from the repository root). */
function phaseOf(src: string, fn: string): string {
  if (fn === "loadBytes") return "read";
  if (fn === "validateGaussians") return "validate";
  if (/^src\/format\/(range-coder|packed)\.ts$/.test(src)) return "range decode";
  if (src.startsWith("src/format/") || src === "src/node/vmg-file.ts") return "parse";
  if (/^src\/decode\/(kernels|spatial-index)\.ts$/.test(src) || src === "src/core/gaussian.ts") return "kernel setup";
  if (src.startsWith("src/decode/") || src === "src/core/background.ts" || src === "src/node/decode-pool.ts") return "decode";
  if (/^src\/node\/worker-(calls|script)\.ts$/.test(src)) return "worker start";
  if (src === "src/io/tiff-write.ts") return "TIFF encode";
  if (src === "src/node/atomic-write.ts") return "write";
  return "command (other)";
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const maps = new Map<string, SourceMap | null>();
function sourceOf(frame: ProfileNode["callFrame"]): string | undefined {
  if (!frame.url.startsWith("file://") || !frame.url.includes("/dist/cli/")) return undefined;
  let map = maps.get(frame.url);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(frame.url)}.map`, "utf8")));
    } catch {
      map = null;
    }
    maps.set(frame.url, map);
  }
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string } | undefined;
  const at = entry?.originalSource?.lastIndexOf("src/") ?? -1;
  return at >= 0 ? entry!.originalSource!.slice(at) : undefined;
}

/** Milliseconds per phase of one profile. */
function phases(profile: Profile): Record<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const phaseOfNode = new Map<number, string>();
  const nodePhase = (id: number): string => {
    const known = phaseOfNode.get(id);
    if (known) return known;
    let phase: string | undefined;
    for (let cur: number | undefined = id; cur !== undefined && !phase; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      const src = sourceOf(frame);
      if (src) phase = phaseOf(src, frame.functionName);
    }
    const leaf = byId.get(id)!.callFrame.functionName;
    phase ??= leaf === "(garbage collector)" ? "GC" : leaf === "(idle)" ? "idle" : "node (start, module load, exit)";
    phaseOfNode.set(id, phase);
    return phase;
  };
  const out: Record<string, number> = {};
  profile.samples.forEach((id, i) => {
    const p = nodePhase(id);
    out[p] = (out[p] ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000;
  });
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : 0;
}

/** Median ms per phase over `runs` fresh processes of `vmg <argv>` in `dir`. */
function profileCommand(dir: string, argv: string[]): { profiled_ms: number; phases_ms: Record<string, number> } {
  const all: Record<string, number>[] = [];
  for (let r = 0; r < runs; r++) {
    const profDir = join(dir, `prof-${argv[0]}-${r}`);
    execFileSync(process.execPath, ["--cpu-prof", "--cpu-prof-interval", "250", "--cpu-prof-dir", profDir, VMG, ...argv], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
    const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"))!;
    all.push(phases(JSON.parse(readFileSync(join(profDir, file), "utf8")) as Profile));
  }
  const names = [...new Set(all.flatMap((p) => Object.keys(p)))];
  const phasesMs = Object.fromEntries(names.map((n) => [n, round(median(all.map((p) => p[n] ?? 0)))]).sort((a, b) => (b[1] as number) - (a[1] as number)));
  return { profiled_ms: round(median(all.map((p) => Object.values(p).reduce((a, b) => a + b, 0)))), phases_ms: phasesMs };
}

await buildCli();
log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);
for (const v of benchVolumes()) {
  const volume = await v.load();
  const fit = await cachedFit(volume, v.name, v.settings, log, anyFitterVersion);
  const dir = mkdtempSync(join(tmpdir(), "vmg-bench-cli-profile-"));
  try {
    writeFileSync(join(dir, "fit.vmg"), fit.bytes);
    for (const [command, argv] of [["decode", ["decode", "fit.vmg", "-o", "out.tif", "--quiet"]], ["info", ["info", "fit.vmg"]]] as const) {
      const row = { volume: v.name, command, runs, ...profileCommand(dir, [...argv]) };
      if (json) console.log(JSON.stringify(row));
      log(`${v.name} vmg ${command}: ${row.profiled_ms} ms profiled: ${Object.entries(row.phases_ms).map(([k, ms]) => `${k} ${ms}`).join(", ")}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
