/**
 * The fits bench:store measures, made by the compiled CLI (`bin/vmg.mjs compress`) in a child
 * process, as a user runs it, so that its wall time and peak RSS (`/usr/bin/time -f %M`: the
 * child's maximum resident set, worker threads included) are a user's. Cached under
 * `.cache/bench-store/` (gitignored), keyed by the input's bytes, the command's arguments and the
 * compiled CLI (a hash of dist/cli: the code that made the fit), like bench/decode.ts's fits.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../demo/build.js";

const run = promisify(execFile);
const CACHE = join(ROOT, ".cache", "bench-store");
const TIME = "/usr/bin/time";

export interface FitRun {
  /** The store folder or `.vmg` file. */
  path: string;
  /** Wall-clock seconds of the child process (reading the input and the CLI's own evaluation included). */
  seconds: number;
  /** Peak resident set of the child, MB; null without /usr/bin/time. */
  peakRssMb: number | null;
  /** The CLI's `--json` line. */
  cli: Record<string, unknown>;
  /** Made in this run (false: read from the cache). */
  fresh: boolean;
}

/** Hash of the compiled CLI's files (what makes the fit), in a fixed order. */
function cliVersion(): string {
  const dir = join(ROOT, "dist", "cli");
  const h = createHash("sha256");
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".js")).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest("hex").slice(0, 16);
}

/**
 * `vmg compress <input> -o <out> <args> --json`, cached. `out` is the output's file name (its
 * suffix chooses a store or a `.vmg`).
 */
export async function cachedCompress(input: string, label: string, out: string, args: string[], log: (s: string) => void): Promise<FitRun> {
  const key = createHash("sha256").update(readFileSync(input)).update(JSON.stringify(args)).update(cliVersion()).digest("hex").slice(0, 16);
  const dir = join(CACHE, `${label}-${key}`);
  const note = join(dir, "run.json");
  if (existsSync(note)) return { ...(JSON.parse(readFileSync(note, "utf8")) as Omit<FitRun, "path" | "fresh">), path: join(dir, out), fresh: false };
  log(`fitting ${label}: vmg compress ${args.join(" ")} (cached afterwards in .cache/bench-store/)`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const cmd = [process.execPath, join(ROOT, "bin", "vmg.mjs"), "compress", input, "-o", join(tmp, out), ...args, "--json"];
    const timed = existsSync(TIME);
    const rssFile = join(tmp, "rss.txt");
    const t0 = performance.now();
    const { stdout } = timed
      ? await run(TIME, ["-f", "%M", "-o", rssFile, ...cmd], { maxBuffer: 1 << 26 })
      : await run(cmd[0]!, cmd.slice(1), { maxBuffer: 1 << 26 });
    const seconds = (performance.now() - t0) / 1000;
    const peakRssMb = timed ? Number(readFileSync(rssFile, "utf8").trim().split("\n").pop()) / 1024 : null;
    rmSync(rssFile, { force: true });
    const cli = JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;
    const record = { seconds, peakRssMb, cli };
    writeFileSync(join(tmp, "run.json"), JSON.stringify(record));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return { ...record, path: join(dir, out), fresh: true };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
