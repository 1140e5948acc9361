/** Run the real `vmg` command (bin/vmg.mjs, the compiled bundle) as a child process. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ensureCliBuild } from "../../scripts/build-cli.js";

const BIN = fileURLToPath(new URL("../../bin/vmg.mjs", import.meta.url));
// `npm test` builds first (pretest); a test file run on its own rebuilds a bundle made from other sources
let built: Promise<void> | undefined;

export async function vmg(args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  await (built ??= ensureCliBuild());
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 1 << 24, ...(env ? { env: { ...process.env, ...env } } : {}) }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The sample data directory beside the repository, or undefined when absent. */
export function sharedData(file: string): string | undefined {
  const path = fileURLToPath(new URL(`../../../shared/data/${file}`, import.meta.url));
  return existsSync(path) ? path : undefined;
}
