/**
 * Smoke version of `npm run bench:rd`: one small real volume, `.vmg` with very few iterations and
 * zstd (skipped when ../shared/data or the zstd command is absent; nothing is installed here), the
 * report writer, and the pieces the full run relies on (knob search, side information, plots).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { hasCommand, packStream, searchKnob, unpackStream } from "../bench/codecs/codec.js";
import { rawGeometry } from "../bench/codecs/jpeg2000.js";
import { zstdCodec } from "../bench/codecs/lossless.js";
import { sirenParams, sirenWidth } from "../bench/codecs/coin.js";
import { vmgCodec } from "../bench/codecs/vmg.js";
import { measure } from "../bench/rd-core.js";
import { writeReport } from "../bench/rd-report.js";
import { figureSvg, niceTicks } from "../src/plot/svg.js";
import { openVolume } from "../src/node/open-volume.js";

const SMALL = fileURLToPath(new URL("../../shared/data/rivuletpy_neuron_small_51x76x176_u8.tif", import.meta.url));

test("bench:rd smoke: .vmg and zstd on a small real volume, report and plots", async (t) => {
  if (!existsSync(SMALL)) return t.skip("../shared/data/rivuletpy_neuron_small_51x76x176_u8.tif not present: skipping the bench:rd smoke run");
  const volume = await openVolume(SMALL);
  const name = "rivuletpy_neuron_small_51x76x176_u8";
  const rows = [await measure(name, volume, vmgCodec({ iterations: 4 }), 0.073)];
  const vmg = rows[0]!;
  assert.ok(vmg.bytes! <= Math.floor((0.073 * volume.data.length) / 8), "the .vmg stream stays within the budget");
  assert.ok(vmg.psnr! > 20 && vmg.ssim! > 0.5, `.vmg reconstruction is sane (${vmg.psnr} dB, SSIM ${vmg.ssim})`);
  assert.ok(vmg.psnr_dtype! >= vmg.psnr! - 1e-9, "dtype-max peak ≥ data-range peak");
  assert.equal(vmg.lpips, "n/a");
  if (hasCommand("zstd")) {
    const z = await measure(name, volume, zstdCodec(), null);
    assert.equal(z.psnr, Infinity, "zstd is lossless");
    assert.equal(z.ssim, 1);
    assert.equal(z.target_bpp, null);
    rows.push(z);
  } else {
    t.diagnostic("zstd command not found: the lossless half of the smoke run is skipped (bench:rd installs it)");
  }
  const out = mkdtempSync(join(tmpdir(), "volmicro-rd-smoke-"));
  try {
    writeReport(rows, out);
    const md = readFileSync(join(out, "rd.md"), "utf8");
    assert.match(md, /Table 1 — matched bitrate, 0\.073 bpp/);
    assert.match(md, /VolMicro \.vmg \| \d+\.\d\d \| \d+\.\d\d \| 0\.\d{4} \| n\/a \| 0\.0\d{3}/);
    const svg = readFileSync(join(out, `rd-${name}-ssim.svg`), "utf8");
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<circle /);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("knob search: largest stream within the budget, null when unreachable, both directions", async () => {
  const size = (k: number) => ({ bytes: Math.round(10000 / (1 + k)) }); // falls as the knob rises (CRF-like)
  const r = await searchKnob({ lo: 0, hi: 51, steps: 20, target: 1000, encode: async (k) => size(k) });
  assert.ok(r && r.best.bytes <= 1000 && r.best.bytes >= 990, `got ${r?.best.bytes}`);
  assert.equal(await searchKnob({ lo: 0, hi: 5, steps: 8, target: 100, encode: async (k) => size(k) }), null);
  const rising = await searchKnob({ lo: 1 / 64, hi: 32, steps: 30, rising: true, log: true, target: 5000, encode: async (k) => ({ bytes: Math.round(1000 * k) }) });
  assert.ok(rising && rising.best.bytes <= 5000 && rising.best.bytes >= 4950 && !rising.atLimit);
  const all = await searchKnob({ lo: 0, hi: 10, steps: 4, target: 1e9, encode: async (k) => size(k) });
  assert.ok(all?.atLimit && all.knob === 0, "a budget the best setting cannot fill ends at that setting");
});

test("side information round-trips and is counted", () => {
  const s = packStream("uint16", [3, 4, 5], [222, 21181], Uint8Array.of(9, 8, 7));
  assert.equal(s.length, 14 + 16 + 3);
  const u = unpackStream(s);
  assert.deepEqual([u.dtype, [...u.shape], u.side, [...u.payload]], ["uint16", [3, 4, 5], [222, 21181], [9, 8, 7]]);
});

test("OpenJPEG raw geometry avoids its shared-bit rejection", () => {
  assert.deepEqual(rawGeometry(627, 1116, 26, 15), { W2: 627, prec: 15 });
  assert.deepEqual(rawGeometry(627, 1116, 26, 16), { W2: 640, prec: 16 }, "no precision above 16: pad the width (bit 4 clear)");
  for (const [W, H, D, p] of [[627, 1116, 26, 16], [303, 303, 303, 15], [77, 86, 92, 8]] as const) {
    const g = rawGeometry(W, H, D, p);
    assert.equal(g.W2 & H & D & g.prec, 0);
    assert.ok(g.prec >= p && g.W2 >= W);
  }
});

test("COIN width: the float16 weights and header fit the budget", () => {
  for (const bytes of [1200, 6224, 253_755]) {
    const w = sirenWidth(bytes);
    assert.ok(14 + 16 + 3 + 2 * sirenParams(w, 5) <= bytes);
    assert.ok(14 + 16 + 3 + 2 * sirenParams(w + 1, 5) > bytes);
  }
});

test("SVG line plot: ticks, log axis, series", () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  const svg = figureSvg([{ title: "t <&>", xLabel: "bpp", yLabel: "dB", logX: true, legendRight: true, series: [
    { label: "a", x: [0.33, 0.073, 0.15], y: [36, 30, 33], points: true },
    { label: "b", x: [0.07, 0.1], y: [31, Number.NaN], dashed: true },
    { label: "c", x: [0, 0.2], y: [20, 21] }, // x = 0 has no place on a log axis: dropped, not NaN
  ] }], 1);
  assert.match(svg, /t &lt;&amp;&gt;/);
  assert.match(svg, /<path d="M[^"]*L[^"]*L/, "series a is one polyline through its three points");
  assert.match(svg, /stroke-dasharray/);
  assert.match(svg, />0\.1</, "log-axis tick at 0.1");
  assert.ok(!svg.includes("NaN") && !svg.includes("Infinity"));
});
