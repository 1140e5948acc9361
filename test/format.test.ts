import assert from "node:assert/strict";
import { test } from "node:test";
import { PARAMS_PER_GAUSSIAN, P_SCALE, P_ROT } from "../src/core/constants.js";
import { fromHalfBits, roundToHalf, toHalfBits } from "../src/core/float16.js";
import { crc32 } from "../src/format/crc32.js";
import {
  BadMagicError, ChecksumMismatchError, CountMismatchError, InvalidHeaderError, InvalidParameterError,
  TruncatedFileError, UnsupportedEncodingError, UnsupportedVersionError, VmgFormatError,
} from "../src/format/errors.js";
import { getMetadata, HEADER_BYTES, readVmg, setMetadata, writeVmg } from "../src/format/vmg.js";
import { Random } from "../src/core/random.js";
import { randomFile } from "./helpers/files.js";

/** Recompute the trailing checksum after a deliberate edit, so the edit itself is what gets tested. */
function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 4, crc32(bytes, 0, bytes.length - 4), true);
  return bytes;
}

test("float16 conversion rounds to nearest even and round-trips every half", () => {
  for (let h = 0; h < 65536; h++) {
    const v = fromHalfBits(h);
    if (Number.isNaN(v)) continue;
    assert.equal(toHalfBits(v), h, `half 0x${h.toString(16)}`);
  }
  assert.equal(roundToHalf(1 + 2 ** -11), 1); // tie → even
  assert.equal(roundToHalf(1 + 3 * 2 ** -11), 1 + 2 ** -9); // tie → even (up)
  assert.equal(roundToHalf(65520), Infinity);
  assert.equal(roundToHalf(2 ** -25), 0);
  assert.equal(roundToHalf(3 * 2 ** -26), 2 ** -24);
});

test("write → read gives identical float16 records, header, background and metadata", () => {
  const f = randomFile([20, 30, 40], 50, 3, { background: { kind: "polynomial", degree: 2, params: Float64Array.from([0.1, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09]) } });
  setMetadata(f, { source: "unit test", psnr: 42.5 });
  const bytes = writeVmg(f);
  assert.equal(bytes.length, HEADER_BYTES + 10 * 4 + 50 * 22 + 12 + f.sections[0]!.data.length + 4);
  const g = readVmg(bytes);
  assert.deepEqual(g.header, f.header);
  assert.equal(g.count, 50);
  for (let i = 0; i < f.gaussians.length; i++) assert.equal(g.gaussians[i], roundToHalf(f.gaussians[i]!));
  assert.equal(g.background.kind, "polynomial");
  assert.deepEqual(Array.from(g.background.params), Array.from(f.background.params, (x) => Math.fround(x)));
  assert.deepEqual(getMetadata(g), { source: "unit test", psnr: 42.5 });
  // Writing what was read reproduces the bytes exactly.
  assert.deepEqual(writeVmg(g), bytes);
});

test("grid background and zero Gaussians round-trip", () => {
  const f = randomFile([5, 6, 7], 0, 1, { background: { kind: "grid", dims: [2, 3, 4], params: Float64Array.from({ length: 24 }, (_, i) => i / 8) } });
  const g = readVmg(writeVmg(f));
  assert.equal(g.count, 0);
  assert.deepEqual(g.background, { kind: "grid", dims: [2, 3, 4], params: Float64Array.from({ length: 24 }, (_, i) => i / 8) });
});

test("rejects wrong magic, truncation, unknown version, checksum and count mismatch", () => {
  const good = writeVmg(randomFile([8, 8, 8], 10));
  const name = "brain.vmg";
  const rejects = (bytes: Uint8Array, cls: typeof VmgFormatError, re: RegExp) =>
    assert.throws(() => readVmg(bytes, { file: name }), (e: unknown) => e instanceof cls && e.message.startsWith(`${name}: `) && re.test(e.message));

  rejects(new TextEncoder().encode("<html>not found</html>"), BadMagicError, /magic/);
  rejects(good.slice(0, 5), TruncatedFileError, /truncated/);
  rejects(good.slice(0, 100), TruncatedFileError, /truncated/);
  rejects(good.slice(0, good.length - 30), TruncatedFileError, /truncated/);
  const v2 = good.slice(); v2[8] = 2; rejects(reseal(v2), UnsupportedVersionError, /version 2\.1/);
  const flip = good.slice(); flip[HEADER_BYTES + 30]! ^= 0x10; rejects(flip, ChecksumMismatchError, /checksum/);
  const count = good.slice(); new DataView(count.buffer).setUint32(104, 9, true); rejects(reseal(count), CountMismatchError, /9 Gaussians/);
  const extra = new Uint8Array(good.length + 3); extra.set(good.subarray(0, good.length - 4)); rejects(reseal(extra), CountMismatchError, /unexplained bytes/);
  const enc = good.slice(); enc[73] = 9; rejects(reseal(enc), UnsupportedEncodingError, /encoding 9/);
  const dt = good.slice(); dt[72] = 99; rejects(reseal(dt), InvalidHeaderError, /dtype code 99/);
  const sh = good.slice(); new DataView(sh.buffer).setUint32(24, 0, true); rejects(reseal(sh), InvalidHeaderError, /shape\[1\] = 0/);
  const vs = good.slice(); new DataView(vs.buffer).setFloat64(32, NaN, true); rejects(reseal(vs), InvalidHeaderError, /voxel size/);
  const tr = good.slice(); new DataView(tr.buffer).setFloat32(84, 100, true); rejects(reseal(tr), InvalidHeaderError, /truncation/);
});

test("absurd header counts are rejected before anything is allocated", () => {
  const good = writeVmg(randomFile([8, 8, 8], 10));
  for (const [offset, value] of [[104, 0xffffffff], [108, 0xffffffff], [112, 0xfffffff0], [116, 0xffffffff], [12, 0xffffffff]] as const) {
    const b = good.slice();
    new DataView(b.buffer).setUint32(offset, value, true);
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => readVmg(reseal(b)), VmgFormatError);
    assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20, `field at ${offset}: allocated`);
  }
});

test("non-finite and degenerate parameters are rejected with the Gaussian named", () => {
  const cases: Array<[number, number, RegExp]> = [
    [3 * PARAMS_PER_GAUSSIAN + 1, NaN, /Gaussian 3: y is NaN/],
    [5 * PARAMS_PER_GAUSSIAN + 10, Infinity, /Gaussian 5: amplitude is Infinity/],
    [2 * PARAMS_PER_GAUSSIAN + P_SCALE + 2, 0, /Gaussian 2: scale z = 0 is degenerate/],
    [4 * PARAMS_PER_GAUSSIAN + P_SCALE, -1, /Gaussian 4: scale x = -1 is degenerate/],
  ];
  for (const [index, value, re] of cases) {
    const f = randomFile([8, 8, 8], 10);
    const bytes = writeVmg(f);
    new DataView(bytes.buffer).setUint16(HEADER_BYTES + 4 + 2 * index, toHalfBits(value), true);
    assert.throws(() => readVmg(reseal(bytes)), (e: unknown) => e instanceof InvalidParameterError && re.test(e.message), String(re));
    // the writer refuses the same file
    f.gaussians[index] = value;
    assert.throws(() => writeVmg(f), InvalidParameterError);
  }
  const f = randomFile([8, 8, 8], 3);
  f.gaussians.fill(0, 1 * PARAMS_PER_GAUSSIAN + P_ROT, 1 * PARAMS_PER_GAUSSIAN + P_ROT + 4);
  assert.throws(() => writeVmg(f), /Gaussian 1: rotation quaternion has norm 0/);
});

test("randomised mutations of valid files: only typed errors, no hang", () => {
  const rng = new Random(2024);
  const files = [
    writeVmg(randomFile([8, 9, 10], 12)),
    writeVmg((() => { const f = randomFile([30, 20, 10], 40, 5, { background: { kind: "grid", dims: [2, 2, 2], params: new Float64Array(8) } }); setMetadata(f, { a: 1 }); return f; })()),
  ];
  let accepted = 0;
  const start = performance.now();
  for (let trial = 0; trial < 3000; trial++) {
    const src = files[trial % files.length]!;
    let b = src.slice();
    const kind = rng.int(4);
    if (kind === 0) b = b.slice(0, rng.int(b.length)); // truncate
    else if (kind === 1) { for (let k = 0, n = 1 + rng.int(4); k < n; k++) b[rng.int(b.length)] = rng.int(256); } // random bytes
    else if (kind === 2) { b[rng.int(HEADER_BYTES)] = rng.int(256); reseal(b); } // header edit with a valid checksum
    else { const i = HEADER_BYTES + rng.int(b.length - HEADER_BYTES - 4); b[i] = rng.int(256); reseal(b); } // payload edit, valid checksum
    try {
      const f = readVmg(b);
      accepted++;
      assert.ok(f.gaussians.length === f.count * PARAMS_PER_GAUSSIAN);
      assert.ok(f.gaussians.every(Number.isFinite));
    } catch (e) {
      assert.ok(e instanceof VmgFormatError, `trial ${trial}: untyped error ${String(e)}`);
    }
  }
  assert.ok(accepted > 0, "some payload edits keep a file valid");
  assert.ok(performance.now() - start < 20_000);
});

test("version 1.1 stores the origin at offset 120; 1.0 files (120-byte header) read with origin 0", () => {
  const f = randomFile([6, 7, 8], 5, 9);
  f.header.origin = [-12.5, 3.25, 1e6];
  const bytes = writeVmg(f);
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  assert.deepEqual([v.getUint16(8, true), v.getUint16(10, true), v.getUint32(12, true)], [1, 1, 144]);
  assert.deepEqual([v.getFloat64(120, true), v.getFloat64(128, true), v.getFloat64(136, true)], [-12.5, 3.25, 1e6]);
  assert.deepEqual(readVmg(bytes).header.origin, [-12.5, 3.25, 1e6]);

  // The same file as a 1.0 writer laid it out: no origin field, a 120-byte header.
  const old = new Uint8Array(bytes.length - 24);
  old.set(bytes.subarray(0, 120));
  old.set(bytes.subarray(144), 120);
  const ov = new DataView(old.buffer);
  ov.setUint16(10, 0, true);
  ov.setUint32(12, 120, true);
  reseal(old);
  const g = readVmg(old, { file: "old.vmg" });
  assert.deepEqual(g.header.origin, [0, 0, 0]);
  assert.equal(g.count, 5);
  assert.deepEqual(Array.from(g.gaussians), Array.from(readVmg(bytes).gaussians));

  // A 1.1 file claiming a 1.0-sized header is refused; a non-finite origin too.
  const short = bytes.slice();
  new DataView(short.buffer).setUint32(12, 120, true);
  assert.throws(() => readVmg(reseal(short)), (e: unknown) => e instanceof InvalidHeaderError && /header length 120 is shorter than version 1\.1's 144/.test(e.message));
  const nan = bytes.slice();
  new DataView(nan.buffer).setFloat64(128, NaN, true);
  assert.throws(() => readVmg(reseal(nan)), (e: unknown) => e instanceof InvalidHeaderError && /origin\[1\] = NaN/.test(e.message));
});
