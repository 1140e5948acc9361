#!/usr/bin/env node
// The `vmg` command: the compiled bundle in dist/cli/ (`npm run build:cli`, run by `npm ci`).
import { existsSync } from "node:fs";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("vmg: dist/cli/main.js is missing: run `npm run build:cli` (or `npm ci`) in the repository first");
  process.exit(1);
}
// stack traces are printed only under VMG_DEBUG; there they name the .ts lines (maps cost ~8 ms at start)
if (process.env.VMG_DEBUG) process.setSourceMapsEnabled(true);
process.exitCode = await (await import(main.href)).main(process.argv.slice(2));
