#!/usr/bin/env node
// The `vmg` command. The project is TypeScript run through tsx (no separate build step).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
