/**
 * `vmg compress <in.zarr> -o out.ome.zarr` never holds its input (issue #15, item 1): two sparse
 * uint16 zarr inputs, 32 MiB and 8× that (mostly absent chunks, which read as the fill value, so
 * they cost no disk and little time), are compressed by processes whose peak resident memory
 * (getrusage maxrss, worker threads included: scripts/peak-rss.mjs) differs by far less than the
 * 224 MiB between the inputs: memory grows with the block, not the volume.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { writeVolume } from "../src/node/atomic-write.js";
import { ensureCliBuild } from "../scripts/build-cli.js";
import { knownGaussians } from "./helpers/volumes.js";

const PEAK_RSS = fileURLToPath(new URL("../scripts/peak-rss.mjs", import.meta.url));
const MIB = 2 ** 20;

let dir = "";
before(async () => { dir = await mkdtemp(join(tmpdir(), "vmg-memory-")); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

/** A uint16 zarr of `shape` in 64×128×128 chunks, three of which hold Gaussians; the others absent. */
async function sparseInput(name: string, shape: number[]): Promise<string> {
  const input = join(dir, name);
  await writeVolume(input, knownGaussians([64, 128, 128], 30, 2).volume, { chunks: [64, 128, 128] });
  const meta = JSON.parse(await readFile(join(input, "0", "zarr.json"), "utf8"));
  meta.shape = shape;
  await writeFile(join(input, "0", "zarr.json"), JSON.stringify(meta));
  const grid = shape.map((n, a) => n / [64, 128, 128][a]!);
  for (const [z, y, x] of [[grid[0]! - 1, 1, 2], [0, grid[1]! - 1, grid[2]! - 1]]) {
    await mkdir(join(input, "0", "c", String(z), String(y)), { recursive: true });
    await copyFile(join(input, "0", "c", "0", "0", "0"), join(input, "0", "c", String(z), String(y), String(x)));
  }
  return input;
}

/** Peak RSS (MB) of `vmg compress` writing the whole store of `input` (--blocks 0/1: without the report, whose SSIM would take minutes). */
async function compressRss(input: string): Promise<number> {
  const args = [PEAK_RSS, "compress", input, "-o", `${input}.ome.zarr`, "--size", "60000", "--iterations", "10", "--threads", "1", "--blocks", "0/1", "--json"];
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 24 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).complete, true, r.stdout);
  return Number(/peak_rss_mb ([\d.]+)/.exec(r.stderr)?.[1]);
}

test("peak memory of a store's compression does not grow with its input (32 MiB and 256 MiB)", { timeout: 600_000 }, async (t) => {
  await ensureCliBuild();
  const small = await sparseInput("x1.zarr", [64, 512, 512]), large = await sparseInput("x8.zarr", [128, 1024, 1024]);
  const [a, b] = [await compressRss(small), await compressRss(large)];
  t.diagnostic(`peak RSS ${a} MB at 32 MiB of input, ${b} MB at 256 MiB`);
  const grown = (224 * MIB) / 1e6;
  assert.ok(a > 0 && b > 0, `${a} ${b}`);
  assert.ok(b - a < grown / 3, `peak RSS ${a} MB at 32 MiB of input, ${b} MB at 256 MiB: it grew by more than a third of the input's growth`);
  const info = JSON.parse(await readFile(join(`${large}.ome.zarr`, "zarr.json"), "utf8"));
  assert.equal(info.attributes.ome.multiscales[0].datasets.length, 5, "every level written");
});
