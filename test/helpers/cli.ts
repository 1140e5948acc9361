/** Run the real `vmg` command (bin/vmg.mjs) as a child process. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/vmg.mjs", import.meta.url));

export function vmg(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
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
