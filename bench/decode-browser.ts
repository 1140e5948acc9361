/**
 * `npm run bench:decode-browser [-- --json] [--reps N] [--rounds N] [--any-fit-version] [--viewer DIST]`: issue 13's browser
 * chunk figure. The demo's light-sheet block fitted as bench:decode fits it (cached under .cache/fits),
 * every 64³-aligned chunk decoded the way each side decodes a `vmg://` layer's CPU chunk:
 *  - Node, as bench:decode: one thread, in process, after the file's setup and a warm-up, each
 *    chunk's median of `reps` passes;
 *  - Chromium: a fresh copy of the viewer's async-computation worker (production build), the
 *    file sent once, then every chunk decoded once (warm-up) and `reps` more times, one at a time
 *    (decodeCpuChunk, as the pool runs it): each chunk's median, from post to answer in the page
 *    and the decode alone as the worker times it.
 * The two alternate, `rounds` times (default 3: the machine's load changes), and the figures are
 * the medians of the rounds'. `--json` prints one line: `{"volume","chunks","chunk64_node_median_ms","chunk64_browser_median_ms",
 * "chunk64_browser_decode_median_ms","browser_vs_node","load"}` (medians over the chunks). `--viewer DIST`:
 * that production viewer build (another commit's) instead of this one's.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { VmgDecoder } from "../src/decode/decoder.js";
import { readVmg } from "../src/format/vmg.js";
import { alignedChunks, demoBlock } from "./bench-volumes.js";
import { StoreBrowser } from "./store-browser.js";
import { cachedFit } from "./stream-cache.js";

const { values } = parseArgs({ options: { json: { type: "boolean", default: false }, reps: { type: "string", default: "5" }, "any-fit-version": { type: "boolean", default: false }, viewer: { type: "string" }, rounds: { type: "string", default: "3" } } });
const log = (s: string) => (values.json ? process.stderr.write(`${s}\n`) : console.log(s));
const reps = Math.max(1, Number(values.reps));
const rounds = Math.max(1, Number(values.rounds));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const round = (x: number) => Math.round(x * 100) / 100;

const startLoad = loadavg()[0]!;
const v = demoBlock();
const volume = await v.load();
const fit = await cachedFit(volume, v.name, v.settings, log, values["any-fit-version"]);
const chunks = alignedChunks(volume.shape, 200);

const decoder = new VmgDecoder(readVmg(fit.bytes));
decoder.scale([1, 1, 1]);
const scratch = new Float32Array(64 ** 3);
for (const box of chunks.slice(0, 8)) decoder.decode(box, undefined, undefined, scratch);
/** Node's figure: each chunk's median of `reps` passes, the median over the chunks. */
function nodeRound(): number {
  const passes = Array.from({ length: reps }, () => chunks.map((box) => { const t = performance.now(); decoder.decode(box, undefined, undefined, scratch); return performance.now() - t; }));
  return median(chunks.map((_, i) => median(passes.map((p) => p[i]!))));
}

// Node and Chromium alternate, `rounds` times, so that both see the same load; the medians of the rounds' figures
const browser = await StoreBrowser.start({}, log, values.viewer);
const node: number[] = [], trip: number[] = [], decode: number[] = [];
try {
  for (let r = 0; r < rounds; r++) {
    node.push(nodeRound());
    const b = await browser.vmgBoxDecodeMs(fit.bytes, chunks, reps);
    trip.push(median(b.roundTrip));
    decode.push(median(b.decode));
    log(`round ${r + 1}: Node ${node[r]!.toFixed(2)} ms, Chromium ${trip[r]!.toFixed(2)} ms (${decode[r]!.toFixed(2)} ms decoding)`);
  }
} finally {
  await browser.close();
}
const row = {
  volume: v.name, chunks: chunks.length,
  chunk64_node_median_ms: round(median(node)), chunk64_browser_median_ms: round(median(trip)),
  chunk64_browser_decode_median_ms: round(median(decode)),
  browser_vs_node: round(median(trip) / median(node)), load: round(startLoad),
};
log(`${v.name}: ${chunks.length} 64³ chunks, medians over ${rounds} rounds of the medians of per-chunk medians of ${reps}: Node ${row.chunk64_node_median_ms} ms; Chromium pool worker ${row.chunk64_browser_median_ms} ms post to answer (${row.chunk64_browser_decode_median_ms} ms decoding), ${row.browser_vs_node}× Node; load average ${startLoad.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`);
if (values.json) console.log(JSON.stringify(row));
