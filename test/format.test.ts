import assert from "node:assert/strict";
import { test } from "node:test";
import { PARAMS_PER_GAUSSIAN, P_AMP, P_SCALE, P_ROT } from "../src/core/constants.js";
import { fromHalfBits, roundToHalf, toHalfBits } from "../src/core/float16.js";
import { crc32, crc32c } from "../src/format/crc32.js";
import {
  BadMagicError, ChecksumMismatchError, CountBoundError, CountMismatchError, InvalidHeaderError, InvalidParameterError,
  ParameterBoundError, StreamOverrunError, TruncatedFileError, UnsupportedEncodingError, UnsupportedVersionError, VmgFormatError,
} from "../src/format/errors.js";
import { encodingByName } from "../src/format/encodings.js";
import { maxPackedCount, MIN_BYTES_PER_GAUSSIAN, PACKED_HEADER_BYTES } from "../src/format/packed.js";
import { getMetadata, HEADER_BYTES, readVmg, serializeVmg, setMetadata, writeVmg, type VmgFile } from "../src/format/vmg.js";
import { Random } from "../src/core/random.js";
import { DecodeSandbox, type SandboxResult } from "./helpers/decode-sandbox.js";
import { randomFile } from "./helpers/files.js";
import { hostileFiles } from "./helpers/hostile-files.js";

/** Recompute the trailing checksum after a deliberate edit, so the edit itself is what gets tested. */
function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 4, crc32(bytes, 0, bytes.length - 4), true);
  return bytes;
}

test("CRC-32 and CRC-32C give their standard check values (file trailer, zarr shard index)", () => {
  const digits = new TextEncoder().encode("123456789");
  assert.equal(crc32(digits), 0xcbf43926);
  assert.equal(crc32c(digits), 0xe3069283);
  assert.equal(crc32c(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 1, 10), crc32c(digits.map((d) => d - 48)));
});

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
  assert.throws(() => writeVmg(f), /Gaussian 1: quaternion norm = 0 is degenerate/);
});

test("bounds: scales within [0.001, the volume diagonal], |amplitude| ≤ 65504, counts the grid and payload justify", () => {
  const shape = [20, 30, 40] as const;
  const diag = Math.hypot(...shape);
  const bound = (e: unknown, fields: Record<string, unknown>) => e instanceof ParameterBoundError && Object.entries(fields).every(([k, v]) => (e as unknown as Record<string, unknown>)[k] === v);
  for (const encoding of ["f16", "packed"] as const) {
    const cases: Array<[number, number, Record<string, unknown>]> = [
      [3 * PARAMS_PER_GAUSSIAN + P_SCALE + 1, 1.01 * diag, { gaussian: 3, field: "scale y", limit: diag }],
      [7 * PARAMS_PER_GAUSSIAN + P_AMP, -70_000, { gaussian: 7, field: "amplitude", value: -70_000, limit: 65504 }],
    ];
    for (const [index, value, fields] of cases) {
      const f = encodingOf(randomFile(shape, 10), encoding);
      f.gaussians[index] = value;
      // the writer refuses; the same Gaussians serialised unchecked are refused by the reader, naming them
      assert.throws(() => writeVmg(f), (e: unknown) => bound(e, fields), `${encoding} writer ${JSON.stringify(fields)}`);
      const bytes = serializeVmg(f, encodingByName(encoding).encode({ gaussians: f.gaussians, count: f.count, shape }));
      // the payload rounds the value, and the packed encoding reorders the Gaussians (Morton order)
      const { value: _v, gaussian: _g, ...rounded } = fields;
      const stored = encoding === "f16" ? { ...rounded, gaussian: fields.gaussian } : rounded;
      const beyondHalf = encoding === "f16" && Math.abs(value) > 65504; // float16 stores it as infinite
      assert.throws(
        () => readVmg(bytes, { file: "x.vmg" }),
        (e: unknown) => (beyondHalf ? e instanceof InvalidParameterError && /amplitude is -Infinity/.test((e as Error).message) : bound(e, stored)) && (e as Error).message.startsWith("x.vmg: Gaussian "),
        `${encoding} reader ${JSON.stringify(fields)}`,
      );
    }
    // exactly at the bounds is legal
    const f = encodingOf(randomFile(shape, 10), encoding);
    f.gaussians[P_SCALE] = encoding === "f16" ? roundToHalf(diag) - 0.05 : diag / 1.1;
    f.gaussians[P_AMP] = encoding === "f16" ? 65504 : -60_000;
    assert.equal(readVmg(writeVmg(f)).count, 10);
  }
  // more Gaussians than voxels
  const tiny = randomFile([2, 2, 2], 9);
  assert.throws(() => writeVmg(tiny), (e: unknown) => e instanceof CountBoundError && e.count === 9 && e.limit === 8);
  const tinyBytes = serializeVmg(tiny, encodingByName("f16").encode({ gaussians: tiny.gaussians, count: 9, shape: [2, 2, 2] }));
  assert.throws(() => readVmg(tinyBytes), (e: unknown) => e instanceof CountBoundError && /9 Gaussians exceed the 2x2x2 grid's voxels \(at most 8\)/.test((e as Error).message));
  // a packed payload declaring more Gaussians than its bytes allow (MIN_BYTES_PER_GAUSSIAN each)
  const p = writeVmg(encodingOf(randomFile(shape, 40), "packed"));
  const payloadBytes = new DataView(p.buffer).getUint32(112, true);
  const limit = maxPackedCount(payloadBytes);
  assert.equal(limit, Math.floor((payloadBytes - PACKED_HEADER_BYTES) / MIN_BYTES_PER_GAUSSIAN));
  const dense = p.slice(); new DataView(dense.buffer).setUint32(104, limit + 1, true);
  assert.throws(() => readVmg(reseal(dense)), (e: unknown) => e instanceof CountBoundError && e.count === limit + 1 && e.limit === limit);
  // within the bound but more than the stream codes: the range decoder stops at the payload's end
  const longer = p.slice(); new DataView(longer.buffer).setUint32(104, limit, true);
  assert.throws(() => readVmg(reseal(longer)), (e: unknown) => e instanceof StreamOverrunError && e instanceof TruncatedFileError && e.streamBytes === payloadBytes - PACKED_HEADER_BYTES);
});

/** Per-file limit of a read + two bounded decodes: far above the ~1–700 ms they take, far below a hang. */
const FILE_LIMIT_MS = 10_000;
const encodingOf = (f: VmgFile, encoding: "f16" | "packed"): VmgFile => ({ ...f, header: { ...f.header, encoding } });

test("randomised mutations of valid files, both encodings: typed errors, or a bounded, finite decode", { timeout: 120_000 }, async () => {
  const seed = 2024;
  const rng = new Random(seed);
  const sources = [
    randomFile([8, 9, 10], 12),
    (() => { const f = randomFile([30, 20, 10], 40, 5, { background: { kind: "grid", dims: [2, 2, 2], params: new Float64Array(8) } }); setMetadata(f, { a: 1 }); return f; })(),
  ];
  const sandbox = new DecodeSandbox(FILE_LIMIT_MS);
  const start = performance.now();
  try {
    for (const encoding of ["f16", "packed"] as const) {
      const files = sources.map((f) => writeVmg(encodingOf(f, encoding)));
      let accepted = 0, decodedVoxels = 0;
      for (let trial = 0; trial < 3000; trial++) {
        const src = files[trial % files.length]!;
        let b = src.slice();
        const kind = rng.int(4);
        let what: string;
        if (kind === 0) { const n = rng.int(b.length); b = b.slice(0, n); what = `truncated to ${n} bytes`; }
        else if (kind === 1) { const at: string[] = []; for (let k = 0, n = 1 + rng.int(4); k < n; k++) { const i = rng.int(b.length), v = rng.int(256); b[i] = v; at.push(`${i}=${v}`); } what = `bytes ${at.join(" ")}`; }
        else if (kind === 2) { const i = rng.int(HEADER_BYTES), v = rng.int(256); b[i] = v; reseal(b); what = `header byte ${i}=${v}, resealed`; }
        else { const i = HEADER_BYTES + rng.int(b.length - HEADER_BYTES - 4), v = rng.int(256); b[i] = v; reseal(b); what = `payload byte ${i}=${v}, resealed`; }
        const label = `seed ${seed}, ${encoding} trial ${trial} (source ${trial % files.length}, ${what})`;
        const r = await sandbox.run(b, label);
        assert.equal(r.untyped, undefined, `${label}: untyped error ${r.untyped}`);
        if (r.accepted) {
          accepted++;
          decodedVoxels += r.voxels!;
          assert.equal(r.nonFinite, 0, `${label}: ${r.nonFinite} non-finite voxels`);
        }
      }
      assert.ok(accepted > 0 && decodedVoxels > 0, `${encoding}: some payload edits keep a file valid, and they were decoded`);
    }
  } finally {
    await sandbox.close();
  }
  if (process.env.VMG_TEST_VERBOSE) console.log(`6000 mutations in ${((performance.now() - start) / 1000).toFixed(1)} s`);
});

test("crafted worst cases: rejected naming the Gaussian and the bound, or decoded in bounded time", { timeout: 120_000 }, async () => {
  const sandbox = new DecodeSandbox(FILE_LIMIT_MS);
  const results = new Map<string, SandboxResult>();
  try {
    for (const encoding of ["f16", "packed"] as const) {
      for (const { name, bytes } of hostileFiles(encoding)) {
        const r = await sandbox.run(bytes, name, 64, 2);
        assert.equal(r.untyped, undefined, `${name}: untyped error ${r.untyped}`);
        if (r.accepted) assert.equal(r.nonFinite, 0, `${name}: ${r.nonFinite} non-finite voxels`);
        results.set(name, r);
        if (process.env.VMG_TEST_VERBOSE) console.log(name, r.accepted ? `decoded ${r.voxels} voxels` : r.message, `${r.ms?.toFixed(0)} ms`);
      }
    }
  } finally {
    await sandbox.close();
  }
  const diag = Math.hypot(64, 64, 64);
  const rejected = (name: string, error: string, fields: Record<string, unknown> = {}) => {
    const r = results.get(name)!;
    assert.ok(!r.accepted && r.error === error, `${name}: expected ${error}, got ${r.accepted ? "accepted" : r.message}`);
    for (const [k, v] of Object.entries(fields)) assert.equal(r.fields?.[k], v, `${name}: ${k}`);
  };
  const accepted = (name: string) => assert.ok(results.get(name)!.accepted, `${name}: ${results.get(name)!.accepted ? "" : (results.get(name) as { message?: string }).message}`);
  for (const enc of ["f16", "packed"]) {
    rejected(`${enc} sigma 60000`, "ParameterBoundError", { gaussian: 0, field: "scale x", limit: diag });
    accepted(`${enc} sigma at the diagonal`);
    accepted(`${enc} maximal count for 2 KB`);
    accepted(`${enc} quaternion at the minimum norm`);
    accepted(`${enc} centres far outside`);
  }
  accepted("f16 largest volume shape"); // the packed encoding cannot quantise positions over 2³¹ voxels: a typed error
  // float16 cannot hold 2^100 or 2^40: infinite; the packed encoding can, and the bounds catch it
  rejected("f16 sigma 2^100", "InvalidParameterError");
  rejected("packed sigma 2^100", "ParameterBoundError", { gaussian: 0, field: "scale x", limit: diag });
  rejected("f16 amplitude past the bound", "InvalidParameterError");
  rejected("packed amplitude past the bound", "ParameterBoundError", { gaussian: 0, field: "amplitude", limit: 65504 });
  rejected("f16 quaternion below the minimum norm", "ParameterBoundError", { gaussian: 0, field: "quaternion norm", limit: 0.001 });
  accepted("packed quaternion below the minimum norm"); // the packed encoding stores unit quaternions
  accepted("f16 amplitude at the bound");
  rejected("f16 largest volume shape, sigma at its diagonal", "InvalidParameterError");
  accepted("packed largest volume shape, sigma at its diagonal");
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
