/**
 * `npm run bench:decode [-- --json]`: full decode of a 100×647×813 uint16 volume from 20,693
 * neuron-like Gaussians (the paper's volume size and Gaussian count) on all cores, and the median
 * latency of 64³ chunk decodes at scales 0 and 2 on one thread.
 */
import { availableParallelism } from "node:os";
import { levelFactors, scaledShape, VmgDecoder } from "../src/decode/decoder.js";
import { readVmg, writeVmg } from "../src/format/vmg.js";
import { DecodePool } from "../src/node/decode-pool.js";
import { syntheticNeuron } from "../src/synthetic/neuron.js";
import { Random } from "../src/core/random.js";

const json = process.argv.includes("--json");
const log = (s: string) => { if (!json) console.log(s); };
const shape = [100, 647, 813] as const;
const bytes = writeVmg(syntheticNeuron({ shape, gaussians: 20693, seed: 1 }));
const file = readVmg(bytes);
const voxels = shape[0] * shape[1] * shape[2];
log(`volume ${shape.join("×")} uint16 (${(voxels / 1e6).toFixed(1)} M voxels), ${file.count} Gaussians, ${bytes.length} bytes`);

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

const threads = availableParallelism();
const pool = await DecodePool.create(bytes, threads);
await pool.decode(); // warm-up: workers prepare kernels and JIT the sampler
const fullRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  await pool.decode();
  fullRuns.push(performance.now() - t);
}
await pool.close();
const fullMs = median(fullRuns);
log(`full decode (${threads} threads): median ${fullMs.toFixed(0)} ms of ${fullRuns.map((x) => x.toFixed(0)).join(", ")}`);

function chunkLatency(level: number): number {
  const decoder = new VmgDecoder(file);
  const factors = levelFactors(level);
  const [nz, ny, nx] = scaledShape(shape, factors);
  const rng = new Random(level + 5);
  const times: number[] = [];
  const scratch = new Float32Array(64 ** 3);
  decoder.scale(factors); // per-file setup, done once when a layer opens
  for (let i = 0; i < 200; i++) {
    const z0 = rng.int(Math.max(1, nz - 63)), y0 = rng.int(Math.max(1, ny - 63)), x0 = rng.int(Math.max(1, nx - 63));
    const box = { z0, z1: Math.min(nz, z0 + 64), y0, y1: Math.min(ny, y0 + 64), x0, x1: Math.min(nx, x0 + 64) };
    const t = performance.now();
    decoder.decode(box, factors, undefined, scratch);
    times.push(performance.now() - t);
  }
  return median(times.slice(20));
}
// Reading the payload: float16 records vs the packed encoding of the same Gaussians (the packed
// stream is range-decoded once per file, before any voxel is decoded).
const packedBytes = writeVmg({ ...file, header: { ...file.header, encoding: "packed" } });
const parseMs = (b: Uint8Array) => {
  readVmg(b);
  const runs: number[] = [];
  for (let i = 0; i < 7; i++) { const t = performance.now(); readVmg(b); runs.push(performance.now() - t); }
  return median(runs);
};
const parseF16 = parseMs(bytes), parsePacked = parseMs(packedBytes);
log(`payload decode: float16 ${parseF16.toFixed(1)} ms, packed ${parsePacked.toFixed(1)} ms (${packedBytes.length} bytes, ${((packedBytes.length - 124) / file.count).toFixed(2)} bytes/Gaussian); packed adds ${((100 * (parsePacked - parseF16)) / fullMs).toFixed(1)}% to a full decode`);

const chunk0 = chunkLatency(0);
const chunk2 = chunkLatency(2);
log(`64³ chunk, scale 0: median ${chunk0.toFixed(2)} ms; scale 2: median ${chunk2.toFixed(2)} ms`);
const result = {
  voxels, gaussians: file.count, full_ms: round(fullMs), mvox_s: round(voxels / 1e6 / (fullMs / 1000)),
  chunk64_ms: round(chunk0), chunk64_scale2_ms: round(chunk2),
  parse_f16_ms: round(parseF16), parse_packed_ms: round(parsePacked), packed_bytes: packedBytes.length,
  peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
};
if (json) console.log(JSON.stringify(result));
else log(`throughput ${result.mvox_s} MVox/s, peak RSS ${result.peak_rss_mb} MB`);

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
