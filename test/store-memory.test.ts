/**
 * `vmg compress <in.zarr> -o out.ome.zarr` never holds its input (issue #15, item 1): a 512 MiB
 * uint16 zarr (mostly absent chunks, which read as the fill value, so it costs no disk and little
 * time) is compressed by a process whose peak resident memory, worker threads included, stays
 * under half the input's size. The process reports its own getrusage maxrss (scripts/peak-rss.mjs).
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
/** 256×1024×1024 uint16 in 64×128×128 chunks, of which three hold data. */
const SHAPE = [256, 1024, 1024];
const INPUT_MB = (SHAPE[0]! * SHAPE[1]! * SHAPE[2]! * 2) / 2 ** 20;

let dir = "";
before(async () => { dir = await mkdtemp(join(tmpdir(), "vmg-memory-")); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

test(`a ${INPUT_MB} MiB input is compressed to a store in less than half its size of memory`, { timeout: 600_000 }, async () => {
  const input = join(dir, "big.zarr");
  await writeVolume(input, knownGaussians([64, 128, 128], 30, 2).volume, { chunks: [64, 128, 128] });
  const meta = JSON.parse(await readFile(join(input, "0", "zarr.json"), "utf8"));
  meta.shape = SHAPE;
  await writeFile(join(input, "0", "zarr.json"), JSON.stringify(meta));
  for (const [z, y, x] of [[1, 3, 5], [3, 7, 7]]) {
    await mkdir(join(input, "0", "c", String(z), String(y)), { recursive: true });
    await copyFile(join(input, "0", "c", "0", "0", "0"), join(input, "0", "c", String(z), String(y), String(x)));
  }
  await ensureCliBuild();
  const out = join(dir, "big.ome.zarr");
  // --blocks 0/1: the whole store, without the report (its SSIM over 268 M voxels would take minutes here)
  const args = [PEAK_RSS, "compress", input, "-o", out, "--size", "60000", "--iterations", "10", "--threads", "2", "--blocks", "0/1", "--json"];
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 24 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).complete, true);
  const rss = Number(/peak_rss_mb ([\d.]+)/.exec(r.stderr)?.[1]);
  assert.ok(rss > 0 && rss < INPUT_MB / 2, `peak RSS ${rss} MB for a ${INPUT_MB} MiB input`);
  const info = JSON.parse(await readFile(join(out, "zarr.json"), "utf8"));
  assert.equal(info.attributes.ome.multiscales[0].datasets.length, 5, "every level written");
});
