/**
 * The switches shared by the whole-process CLI benchmarks (decode-cli.ts, decode-cli-profile.ts):
 * `--json`, `--volumes a,b`, `--runs N` (default 5), `--iterations K`, `--any-fit-version`.
 */
import { fileURLToPath } from "node:url";
import { demoBlock, manifestVolumes } from "./bench-volumes.js";

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const iterations = flag("--iterations") !== undefined ? Number(flag("--iterations")) : undefined;
const only = flag("--volumes")?.split(",");

export const json = args.includes("--json");
export const runs = Number(flag("--runs") ?? 5);
export const anyFitterVersion = args.includes("--any-fit-version");
/** The compiled `vmg` command. */
export const VMG = fileURLToPath(new URL("../bin/vmg.mjs", import.meta.url));
/** With --json, stdout holds only the JSON lines and the readable report goes to stderr. */
export const log = (s: string) => { if (json) process.stderr.write(s + "\n"); else console.log(s); };
/** bench:decode's volumes (its cached fits), those of --volumes only. */
export const benchVolumes = () => [...manifestVolumes(iterations), demoBlock()].filter((b) => !only || only.includes(b.name));
