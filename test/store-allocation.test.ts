/**
 * The store's byte allocation (src/store/allocation.ts, docs/vmg-zarr-codec.md § 6.2): caps at one
 * common rate-distortion slope never exceed the budget and give every block the Gaussians that beat
 * the slope; block statistics rank content; the coarse levels keep to their share.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Shape3 } from "../src/core/gaussian.js";
import { Random } from "../src/core/random.js";
import { allocateCaps, blockStats, COARSE_SHARE, gainAt, levelChunkBytes, NO_GAINS, summariseGains, type BlockStats, type ChunkCosts } from "../src/store/allocation.js";

const COSTS: ChunkCosts = { perGaussian: 9.5, structured: 66, empty: 7 };

function randomStats(rng: Random, n: number): BlockStats[] {
  return Array.from({ length: n }, () => {
    if (rng.next() < 0.3) return NO_GAINS; // nothing above the gate
    const scale = 10 ** (rng.next() * 6 - 2), decay = 0.5 + rng.next() * 0.49;
    const gains = Float64Array.from({ length: 1 + Math.floor(rng.next() * 300) }, (_, k) => scale * decay ** k * (0.5 + rng.next()));
    return summariseGains(gains.sort().reverse());
  });
}

/** A field of `shape` with Gaussian blobs [z, y, x, amplitude, sigma] on 0.01 of background. */
function blobs(shape: Shape3, list: number[][]): Float64Array {
  const [nz, ny, nx] = shape, f = new Float64Array(nz * ny * nx).fill(0.01);
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    for (const [bz, by, bx, a, s] of list) f[i]! += a! * Math.exp(-((z - bz!) ** 2 + (y - by!) ** 2 + (x - bx!) ** 2) / (2 * s! ** 2));
  }
  return f;
}

describe("allocation at a common slope", () => {
  test("caps never sum above the budget and spend all but a few bytes of it, for random statistics and budgets", () => {
    const rng = new Random(14);
    for (let trial = 0; trial < 300; trial++) {
      const stats = randomStats(rng, 1 + Math.floor(rng.next() * 40));
      const total = Math.floor(stats.length * COSTS.empty + rng.next() * 20_000);
      const caps = allocateCaps(stats, total, COSTS);
      const sum = caps.reduce((a, b) => a + b, 0);
      assert.ok(sum <= total, `trial ${trial}: ${sum} > ${total}`);
      assert.ok(caps.every((c) => Number.isInteger(c) && c >= 0), `trial ${trial}: ${caps.join(",")}`);
      if (stats.some((s) => s.count > 0)) assert.ok(sum >= total - stats.length, `trial ${trial}: ${sum} of ${total} spent`);
    }
  });

  test("every block gets the Gaussians that beat one slope: none given anywhere gains less per byte than one refused elsewhere", () => {
    const rng = new Random(7);
    for (let trial = 0; trial < 100; trial++) {
      const stats = randomStats(rng, 12);
      const caps = allocateCaps(stats, Math.floor(500 + rng.next() * 5000), COSTS);
      // a cap buys K Gaussians on top of the chunk's fixed bytes
      const ks = caps.map((c, i) => (stats[i]!.count && c >= COSTS.structured + COSTS.perGaussian ? Math.min(stats[i]!.count, Math.floor((c - COSTS.structured) / COSTS.perGaussian)) : 0));
      // the gains as the allocation knows them: the block's curve (exact up to 17 Gaussians, interpolated beyond)
      const worstGiven = Math.min(...ks.flatMap((k, i) => (k > 0 ? [gainAt(stats[i]!, k - 1)] : [])));
      // what the leftover bytes (fewer than a Gaussian per block) buy is not a choice of the slope: compare with the next but one
      const bestRefused = Math.max(...ks.flatMap((k, i) => (k + 1 < stats[i]!.count ? [gainAt(stats[i]!, k + 1)] : [])));
      if (Number.isFinite(worstGiven) && Number.isFinite(bestRefused)) assert.ok(worstGiven >= bestRefused, `trial ${trial}: gave ${worstGiven}, refused ${bestRefused}`);
    }
  });

  test("blocks without structure get the bytes of a background-only chunk; a budget below that is shared out, never exceeded", () => {
    const stats: BlockStats[] = [NO_GAINS, summariseGains([100, 50, 10]), NO_GAINS];
    const caps = allocateCaps(stats, 1000, COSTS);
    assert.equal(caps[0], COSTS.empty);
    assert.equal(caps[2], COSTS.empty);
    assert.equal(caps[1], 1000 - 2 * COSTS.empty);
    const tiny = allocateCaps(stats, 10, COSTS);
    assert.ok(tiny.reduce((a, b) => a + b, 0) <= 10);
  });
});

describe("block statistics", () => {
  const shape: Shape3 = [16, 16, 16];
  test("nothing above the gate: no gains; more and brighter structure: more and larger gains", () => {
    assert.equal(blockStats(blobs(shape, [[8, 8, 8, 0.3, 2]]), shape, 0.5, 100).gains.length, 0);
    const dim = blockStats(blobs(shape, [[8, 8, 8, 0.6, 2]]), shape, 0.5, 100);
    const bright = blockStats(blobs(shape, [[8, 8, 8, 1, 2]]), shape, 0.5, 100);
    const two = blockStats(blobs(shape, [[4, 4, 4, 1, 2], [11, 11, 11, 1, 2]]), shape, 0.5, 100);
    assert.ok(bright.gains[0]! > dim.gains[0]!, `${bright.gains[0]} vs ${dim.gains[0]}`);
    assert.ok(two.gains.length >= 2 && two.gains[1]! > dim.gains[0]!);
    // the gain estimates a blob's energy a² π^{3/2} σ³ (smoothing and the seed's moments make it approximate)
    const energy = Math.PI ** 1.5 * 2 ** 3;
    assert.ok(bright.gains[0]! > 0.3 * energy && bright.gains[0]! < 3 * energy, `${bright.gains[0]} vs ${energy}`);
    for (const s of [dim, bright, two]) assert.ok(s.gains.every((g, k) => k === 0 || g <= s.gains[k - 1]!));
    assert.ok(blockStats(blobs(shape, [[4, 4, 4, 1, 2], [11, 11, 11, 1, 2]]), shape, 0.5, 1).gains.length <= 1);
  });

  test("with the caps: the block holding the structure gets the bytes", () => {
    const empty = blockStats(blobs(shape, []), shape, 0.5, 100);
    const full = blockStats(blobs(shape, [[4, 4, 4, 1, 2], [11, 11, 11, 1, 1.5], [4, 12, 8, 0.8, 3]]), shape, 0.5, 100);
    const caps = allocateCaps([empty, full, empty, empty], 600, COSTS);
    assert.deepEqual([caps[0], caps[2], caps[3]], [COSTS.empty, COSTS.empty, COSTS.empty]);
    assert.equal(caps[1], 600 - 3 * COSTS.empty);
  });
});

describe("a block's gains as the planning pass keeps them", () => {
  test("bounded whatever the block's Gaussians, exact for its first 17, within a few per cent of a smooth curve beyond", () => {
    for (const n of [1, 17, 18, 554, 262_144]) {
      const exact = Float64Array.from({ length: n }, (_, k) => 1e4 * (k + 1) ** -1.5);
      const s = summariseGains(exact);
      assert.equal(s.count, n);
      assert.ok(s.gains.length <= 100, `${n} gains kept as ${s.gains.length} floats`);
      let worst = 0;
      for (let k = 0; k < n; k += Math.max(1, Math.floor(n / 5000))) {
        const g = gainAt(s, k);
        if (k < 17 || k === n - 1) assert.equal(g, Math.fround(exact[k]!), `${n} gains: rank ${k}`);
        worst = Math.max(worst, Math.abs(g - exact[k]!) / exact[k]!);
        if (k > 0) assert.ok(g <= gainAt(s, k - 1), `${n} gains: the curve rises at rank ${k}`);
      }
      assert.ok(worst < 0.05, `${n} gains: ${(100 * worst).toFixed(2)} % off`);
      assert.equal(gainAt(s, n), 0, "nothing past the last");
    }
  });
});

describe("level shares", () => {
  test("in proportion to voxels while the coarse levels stay within their share; never above the chunk bytes", () => {
    const big = levelChunkBytes(100_000, 110_000, [{ voxels: 8 ** 3, fixed: 700, min: 7 }, { voxels: 4 ** 3, fixed: 700, min: 7 }]);
    assert.equal(big[1], Math.floor((100_000 * 64) / (512 + 64)));
    assert.equal(big[0]! + big[1]!, 100_000);
    const small = levelChunkBytes(4000, 5600, [{ voxels: 609_000, fixed: 800, min: 56 }, { voxels: 77_000, fixed: 300, min: 7 }, { voxels: 10_000, fixed: 300, min: 7 }]);
    assert.ok(small[1]! + small[2]! + 600 <= COARSE_SHARE * 5600, small.join(","));
    assert.ok(small.reduce((a, b) => a + b, 0) <= 4000);
    assert.ok(small[0]! > (4000 * 609) / 696);
    // coarse levels whose metadata alone passes the share keep their background-only chunks
    const tiny = levelChunkBytes(4000, 5600, [{ voxels: 609_000, fixed: 800, min: 56 }, { voxels: 77_000, fixed: 700, min: 21 }, { voxels: 10_000, fixed: 700, min: 7 }]);
    assert.deepEqual(tiny.slice(1), [21, 7]);
    assert.equal(tiny[0], 4000 - 28);
  });
});
