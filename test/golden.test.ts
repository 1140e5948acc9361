/**
 * Golden files (test/fixtures/golden/, made once by test/fixtures/make-golden.ts): committed bytes
 * with committed decodes, so a change of byte layout or of kernel math cannot hide behind a
 * write-then-read round trip. What is compared, and how (docs/vmg-format.md § 2.6):
 *  - decoded Gaussian parameters: bit for bit (the format requires exact agreement);
 *  - field values (float32): within 1e-4 · peak amplitude + 2⁻²² · |F| of the committed float64
 *    brute-force field, not exactly, because the decoder's row evaluation may change its last bits;
 *  - stored values: integers exactly wherever no rounding boundary k + ½ lies within b · that
 *    tolerance of the mapped field a + b·F (elsewhere within one step per such boundary); float32
 *    within b · tolerance. Most fixtures keep b · 1e-4 · peak ≤ 0.03, so 93–98 % of their
 *    voxels are compared exactly; v1.7 (b = 40000) shows the rule where none are;
 *  - `vmg info --json` (every field but the path) and `vmg decode --box`, through the real CLI.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { allocVoxels, DTYPES, type VoxelArray } from "../src/core/dtype.js";
import { levelFactors, VmgDecoder } from "../src/decode/decoder.js";
import { UnsupportedVersionError } from "../src/format/errors.js";
import { readVmg } from "../src/format/vmg.js";
import { openVolume } from "../src/node/open-volume.js";
import { vmg } from "./helpers/cli.js";
import { DECODE_PATHS } from "./helpers/decode-paths.js";
import { reseal } from "./helpers/files.js";
import { fieldTolerance, GOLDEN_DIR, readBytes, readFloat32, readManifest, roundingBoundaries, type GoldenCase, type GoldenFixture } from "./helpers/golden.js";

const { fixtures } = readManifest();
const dir = mkdtempSync(join(tmpdir(), "vmg-golden-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function expectedValues(fx: GoldenFixture, c: GoldenCase): VoxelArray {
  const b = readBytes(c.values);
  return allocVoxels(fx.dtype, b.length / DTYPES[fx.dtype].bytes, b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function assertField(got: Float32Array, fx: GoldenFixture, c: GoldenCase): void {
  const ref = readFloat32(c.field);
  assert.equal(got.length, ref.length, `${fx.name} ${c.id}: voxel count`);
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i]! - ref[i]!);
    if (!(err <= fieldTolerance(fx.peak, ref[i]!))) assert.fail(`${fx.name} ${c.id}: field at voxel ${i} is ${got[i]}, expected ${ref[i]} (difference ${err})`);
  }
}

function assertValues(got: ArrayLike<number>, fx: GoldenFixture, c: GoldenCase, how: string): void {
  const expected = expectedValues(fx, c), ref = readFloat32(c.field);
  const { integer } = DTYPES[fx.dtype];
  const b = Math.abs(fx.valueScale);
  assert.equal(got.length, expected.length, `${fx.name} ${c.id} (${how}): voxel count`);
  for (let i = 0; i < expected.length; i++) {
    const tol = b * fieldTolerance(fx.peak, ref[i]!);
    const e = expected[i]!, g = got[i]!;
    if (integer) {
      // one step of freedom per rounding boundary k + ½ within the tolerance of the mapped value
      const mapped = fx.valueOffset + fx.valueScale * ref[i]!;
      const boundaries = roundingBoundaries(mapped, tol);
      if (Math.abs(g - e) > boundaries) assert.fail(`${fx.name} ${c.id} (${how}): value at voxel ${i} is ${g}, expected ${e}${boundaries ? ` ± ${boundaries}` : ""}`);
    } else if (!(Math.abs(g - e) <= tol + 2 ** -22 * Math.abs(e))) {
      assert.fail(`${fx.name} ${c.id} (${how}): value at voxel ${i} is ${g}, expected ${e}`);
    }
  }
}

test("golden files decode to their committed Gaussian parameters, bit for bit", () => {
  for (const fx of fixtures) {
    const f = readVmg(readBytes(fx.file), { file: fx.file });
    const expected = new Uint32Array(readFloat32(fx.params).buffer);
    assert.equal(f.count * 11, expected.length, `${fx.name}: Gaussian count`);
    assert.deepEqual(new Uint32Array(f.gaussians.buffer, f.gaussians.byteOffset, f.gaussians.length), expected, `${fx.name}: parameters`);
  }
});

for (const path of DECODE_PATHS) test(`golden files decode to their committed fields and stored values at scales 0, 1 (2) and in a box [${path}]`, () => {
  for (const fx of fixtures) {
    const decoder = new VmgDecoder(readVmg(readBytes(fx.file), { file: fx.file }), path);
    for (const c of fx.cases) {
      const factors = levelFactors(c.scale);
      assertField(decoder.decodeField(c.box, factors), fx, c);
      assertValues(decoder.decode(c.box, factors), fx, c, "decoder");
    }
  }
});

test("a later minor version with a longer header, junk in ignored fields and an unknown section still reads", () => {
  const fx = fixtures.find((x) => x.name === "v1.7-future-f16")!;
  const bytes = readBytes(fx.file);
  const f = readVmg(bytes);
  assert.deepEqual(f.sections.map((s) => [s.tag, s.flags]), [["XTRA", 2], ["META", 0]]);
  assert.equal(f.header.unit, "um");
  // the same section marked critical is refused: the reader really does not know it
  const critical = bytes.slice();
  const xtra = bytes.length - 4 - f.sections.reduce((n, s) => n + 12 + s.data.length, 0);
  assert.equal(String.fromCharCode(...critical.subarray(xtra, xtra + 4)), "XTRA");
  critical[xtra + 4] = 3;
  assert.throws(() => readVmg(reseal(critical)), UnsupportedVersionError);
});

test("vmg info --json describes each golden file; vmg decode --box writes its committed values", async () => {
  await Promise.all(fixtures.map(async (fx) => {
    const path = GOLDEN_DIR + fx.file;
    const info = await vmg(["info", path, "--json"]);
    assert.equal(info.code, 0, info.stderr);
    const printed = JSON.parse(info.stdout) as Record<string, unknown>;
    for (const [key, value] of Object.entries(fx.info)) assert.deepEqual(printed[key], value, `${fx.name}: info ${key}`);

    const c = fx.cases.find((x) => x.id.endsWith("box"))!;
    const out = join(dir, `${fx.name}.zarr`);
    const d = await vmg(["decode", path, "-o", out, "--scale", String(c.scale), "--box", c.boxFlag, "--quiet"]);
    assert.equal(d.code, 0, d.stderr);
    const v = await openVolume(out);
    assert.deepEqual([...v.shape], [c.box.z1 - c.box.z0, c.box.y1 - c.box.y0, c.box.x1 - c.box.x0], `${fx.name}: --box output shape (scale-${c.scale} voxels)`);
    assert.equal(v.dtype, fx.dtype);
    // § 2.5: voxel size · f, and the origin of the box's first (coarse) voxel centre
    const f = 2 ** c.scale, corner = [c.box.z0, c.box.y0, c.box.x0];
    const voxel = fx.info["voxel_size"] as number[], origin = fx.info["origin"] as number[];
    assert.deepEqual(v.voxelSize, voxel.map((s) => s * f), `${fx.name}: --box output voxel size`);
    assert.deepEqual(v.origin, origin.map((o, k) => o + voxel[k]! * (f * corner[k]! + (f - 1) / 2)), `${fx.name}: --box output origin (OME-Zarr translation)`);
    assertValues(v.data, fx, c, "vmg decode --box");
  }));
});
