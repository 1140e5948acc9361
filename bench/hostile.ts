/**
 * `node --import tsx bench/hostile.ts [--json] [--write DIR]`: decode cost of hostile files.
 *
 *  - the 568-byte float16 file of 20 Gaussians with σ = 60,000 voxels: what the reader says,
 *    and the 64³ chunk decoded anyway (the decoder alone, bypassing the reader's scale bound);
 *  - the worst ≤ 2 KB files the reader accepts (the most Gaussians the bytes allow, each covering
 *    the chunk), in both encodings: the median of their 64³ chunk decodes at scale 0.
 *
 * `--write DIR` also saves the files, to time `vmg decode` on them.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { VmgDecoder } from "../src/decode/decoder.js";
import { readVmg } from "../src/format/vmg.js";
import { HUGE_SCALE, hugeScaleFile, maxCountFile, rawVmgFile } from "../test/helpers/hostile-files.js";

const json = process.argv.includes("--json");
const dir = process.argv.includes("--write") ? process.argv[process.argv.indexOf("--write") + 1] : undefined;
const log = (s: string) => { if (!json) console.log(s); };
const chunk = { z0: 0, z1: 64, y0: 0, y1: 64, x0: 0, x1: 64 };

function medianMs(f: () => void, runs = 7): number {
  f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) { const s = performance.now(); f(); t.push(performance.now() - s); }
  return t.sort((a, b) => a - b)[runs >> 1]!;
}

const huge = hugeScaleFile();
let verdict = "accepted";
try { readVmg(huge); } catch (e) { verdict = `${(e as Error).name}: ${(e as Error).message}`; }
// the decoder alone, on the same Gaussians unrounded (60,000 is a float16 value)
const hugeMs = medianMs(() => new VmgDecoder(rawVmgFile(...HUGE_SCALE, "f16")).decode(chunk), 3);
log(`σ = 60,000 file (${huge.length} bytes): reader: ${verdict}`);
log(`  its 64³ chunk through the decoder alone: ${hugeMs.toFixed(1)} ms`);
if (dir) writeFileSync(join(dir, "sigma60000-f16.vmg"), huge);

const worst: Record<string, { bytes: number; gaussians: number; chunk64_ms: number }> = {};
for (const encoding of ["f16", "packed"] as const) {
  const bytes = maxCountFile(encoding);
  const file = readVmg(bytes);
  const ms = medianMs(() => new VmgDecoder(file).decode(chunk));
  worst[encoding] = { bytes: bytes.length, gaussians: file.count, chunk64_ms: Math.round(ms * 10) / 10 };
  log(`worst ${encoding} file ≤ 2 KB: ${bytes.length} bytes, ${file.count} Gaussians each covering the chunk: 64³ chunk ${ms.toFixed(1)} ms`);
  if (dir) writeFileSync(join(dir, `worst-${encoding}.vmg`), bytes);
}
if (json) console.log(JSON.stringify({ sigma60000: { bytes: huge.length, reader: verdict, chunk64_ms: Math.round(hugeMs * 10) / 10 }, worst }));
