/**
 * Build the viewer with webpack unless an up-to-date build is there: the inputs' digest (paths,
 * sizes, mtimes of src/, asm/, shaders/, webpack.config.js, package-lock.json) is stamped into the
 * output folder. A lock folder keeps parallel callers (test files) from building twice.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const INPUTS = ["src", "asm", "shaders", "webpack.config.js", "package-lock.json"];
const STAMP = ".volmicro-build";

function inputsDigest(mode: string): string {
  const h = createHash("sha256").update(mode);
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) { for (const e of readdirSync(p).sort()) walk(join(p, e)); return; }
    h.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
  };
  for (const i of INPUTS) if (existsSync(join(ROOT, i))) walk(join(ROOT, i));
  return h.digest("hex");
}

export interface BuildResult {
  outDir: string;
  built: boolean;
  seconds: number;
}

export async function ensureViewerBuild(mode: "production" | "development", outDir: string, log: (s: string) => void = () => {}): Promise<BuildResult> {
  const lock = `${outDir}.lock`;
  mkdirSync(dirname(outDir), { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try { mkdirSync(lock); break; } catch {
      if (waited > 300_000) throw new Error(`waited 5 minutes for the build lock ${lock}; remove it if no build is running`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const digest = inputsDigest(mode);
    const stamp = join(outDir, STAMP);
    if (existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return { outDir, built: false, seconds: 0 };
    log(`building the viewer (webpack, ${mode})…`);
    const t0 = performance.now();
    execFileSync(process.execPath, [join(ROOT, "node_modules/webpack-cli/bin/cli.js"), "--mode", mode, "--output-path", outDir], {
      cwd: ROOT, stdio: ["ignore", "ignore", "inherit"],
    });
    writeFileSync(stamp, digest);
    return { outDir, built: true, seconds: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
