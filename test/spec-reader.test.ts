/**
 * The specification check: test/spec-reader/vmg_reader.py, a Python reader written from
 * docs/vmg-format.md alone, against the TypeScript implementation on the golden files, on packed
 * files freshly written by `vmg compress` from two real volumes and on a float16 conversion of one.
 * What must agree (docs/vmg-format.md § 2.6):
 *  - header fields, background parameters and decoded Gaussian parameters: bit for bit (the Python
 *    side against `readVmg`, the reader behind every decode path);
 *  - stored values: the Python reader evaluates the field in float64 (exact but for float64
 *    rounding) and maps it by § 2.4; an integer value of the TypeScript decoder (the golden files
 *    through `VmgDecoder`, the real volumes through the `vmg decode` command) must equal it, except
 *    by one step per rounding boundary k + ½ lying within |b|·(1e−4·A + 2⁻²²·|F|) of a + b·F; a
 *    float32 value within that tolerance plus one binary32 ulp (one rounding on each side);
 *  - rejection: damaged copies of the golden files are refused by both readers with the same error
 *    class (§ 8's names, the refined bound and stream classes included), and a file damaged just
 *    past a bound of § 6 is refused by the TypeScript reader for that bound, not another.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import type { Box } from "../src/core/background.js";
import { MAX_AMPLITUDE, P_AMP, P_SCALE, PARAMS_PER_GAUSSIAN } from "../src/core/constants.js";
import { allocVoxels, DTYPES, type DType } from "../src/core/dtype.js";
import { fromHalfBits, toHalfBits } from "../src/core/float16.js";
import { volumeDiagonal } from "../src/core/gaussian.js";
import { levelFactors, VmgDecoder } from "../src/decode/decoder.js";
import { CountBoundError, ParameterBoundError } from "../src/format/errors.js";
import { getMetadata, readVmg, writeVmg } from "../src/format/vmg.js";
import { openVolume } from "../src/node/open-volume.js";
import { sharedData, vmg } from "./helpers/cli.js";
import { reseal } from "./helpers/files.js";
import { fieldTolerance, GOLDEN_DIR, readBytes, readManifest, roundingBoundaries } from "./helpers/golden.js";

const READER = fileURLToPath(new URL("spec-reader/vmg_reader.py", import.meta.url));
/** The interpreter behind `python3` on the PATH (resolved once: version-manager shims cost a process per call). */
const PYTHON = ((): string | undefined => {
  const r = spawnSync("python3", ["-c", "import sys; print(sys.executable if sys.version_info >= (3, 9) else '')"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
})();
const NO_PYTHON = PYTHON ? false : "no python3 ≥ 3.9 on PATH: the independent spec reader cannot run";
const dir = mkdtempSync(join(tmpdir(), "vmg-spec-reader-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface PyHeader {
  version: string; shape: number[]; voxel_size: number[]; origin: number[]; unit: string; dtype: DType; encoding: string;
  background: number[]; truncation_sigma: number; value_offset: number; value_scale: number;
  gaussians: number; metadata: Record<string, unknown>;
}

interface PyDecode { header: PyHeader; gaussians: number[][]; values: ArrayLike<number>; field: Float64Array }

function python(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON!, [READER, ...args], (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stderr });
    });
  });
}

let runs = 0;
/** The Python reader's parameters, values and float64 field for a box (default: the whole scale). */
async function pyDecode(file: string, scale: number, box?: string): Promise<PyDecode> {
  const base = join(dir, `py-${runs++}`);
  const r = await python([file, "--scale", String(scale), ...(box ? ["--box", box] : []), "--params", `${base}.json`, "--values", `${base}.bin`, "--field", `${base}.f64`]);
  assert.equal(r.code, 0, `spec reader on ${file}: ${r.stderr}`);
  const { header, gaussians } = JSON.parse(readFileSync(`${base}.json`, "utf8")) as { header: PyHeader; gaussians: number[][] };
  const v = readFileSync(`${base}.bin`), f = readFileSync(`${base}.f64`);
  return {
    header, gaussians,
    values: allocVoxels(header.dtype, v.length / DTYPES[header.dtype].bytes, v.buffer.slice(v.byteOffset, v.byteOffset + v.length)),
    field: new Float64Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.length)),
  };
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Header, background and Gaussian parameters of the Python reader against `readVmg`, bit for bit. */
function assertSameFile(py: PyDecode, bytes: Uint8Array, label: string): number {
  const f = readVmg(bytes, { file: label });
  const h = py.header;
  assert.deepEqual(h.shape, [...f.header.shape], `${label}: shape`);
  assert.deepEqual(h.voxel_size, [...f.header.voxelSize], `${label}: voxel size`);
  assert.deepEqual(h.origin, [...f.header.origin], `${label}: origin`);
  assert.equal(h.unit, f.header.unit, `${label}: unit`);
  assert.equal(h.dtype, f.header.dtype, `${label}: dtype`);
  assert.equal(h.encoding, f.header.encoding, `${label}: encoding`);
  assert.equal(h.truncation_sigma, f.header.truncation, `${label}: truncation radius`);
  assert.equal(h.value_offset, f.header.valueOffset, `${label}: value offset`);
  assert.equal(h.value_scale, f.header.valueScale, `${label}: value scale`);
  assert.deepEqual(h.background, [...f.background.params], `${label}: background parameters`);
  assert.deepEqual(h.metadata, getMetadata(f), `${label}: metadata`);
  assert.equal(py.gaussians.length, f.count, `${label}: Gaussian count`);
  const flat = py.gaussians.flat();
  for (const x of flat) assert.equal(Math.fround(x), x, `${label}: the spec reader's parameter ${x} is not a binary32 value`);
  assert.deepEqual(bits(Float32Array.from(flat)), bits(f.gaussians), `${label}: Gaussian parameters (bit for bit)`);
  let peak = 0;
  for (const g of py.gaussians) peak = Math.max(peak, Math.abs(g[10]!));
  return peak;
}

/** Stored values of the TypeScript decoder against the spec reader's, within § 2.6. Returns how many voxels had any freedom. */
function assertSameValues(py: PyDecode, got: ArrayLike<number>, peak: number, label: string): number {
  const { value_offset: a, value_scale: b, dtype } = py.header;
  assert.equal(got.length, py.values.length, `${label}: voxel count`);
  let free = 0;
  for (let i = 0; i < got.length; i++) {
    const F = py.field[i]!, want = py.values[i]!, g = got[i]!;
    const tol = Math.abs(b) * fieldTolerance(peak, F);
    if (DTYPES[dtype].integer) {
      const boundaries = roundingBoundaries(a + b * F, tol);
      if (boundaries) free++;
      if (Math.abs(g - want) > boundaries) assert.fail(`${label}: value at voxel ${i} is ${g}, the spec reader's is ${want}${boundaries ? ` ± ${boundaries}` : " exactly"} (field ${F})`);
    } else {
      free++;
      if (!(Math.abs(g - want) <= tol + 2 ** -23 * Math.abs(want))) assert.fail(`${label}: value at voxel ${i} is ${g}, the spec reader's is ${want} (field ${F})`);
    }
  }
  return free;
}

const parseBox = (flag: string): Box => {
  const [[z0, z1], [y0, y1], [x0, x1]] = flag.split(",").map((p) => p.split(":").map(Number)) as [number[], number[], number[]];
  return { z0: z0!, z1: z1!, y0: y0!, y1: y1!, x0: x0!, x1: x1! };
};

test("the spec reader decodes every golden file to the TypeScript reader's parameters and values", { skip: NO_PYTHON }, async (t) => {
  const { fixtures } = readManifest();
  await Promise.all(fixtures.map(async (fx) => {
    const bytes = readBytes(fx.file);
    const decoder = new VmgDecoder(readVmg(bytes, { file: fx.file }));
    for (const c of fx.cases) {
      const label = `${fx.name} ${c.id}`;
      const py = await pyDecode(GOLDEN_DIR + fx.file, c.scale, c.boxFlag);
      const peak = assertSameFile(py, bytes, label);
      const free = assertSameValues(py, decoder.decode(parseBox(c.boxFlag), levelFactors(c.scale)), peak, label);
      t.diagnostic(`${label}: ${py.values.length} voxels, ${py.values.length - free} of them pinned exactly`);
    }
  }));
});

/** A file written by the CLI from real data and the box to compare (default: the whole scale). */
const real: { name: string; path: string; scale: number; box?: string }[] = [];
const TINC = sharedData("tinc_test_8x128x128_u16.tif"), DIADEM = sharedData("diadem_OP9_crop_92x77x86_u8.tif");
const NO_DATA = NO_PYTHON || (TINC && DIADEM ? false : "../shared/data lacks tinc_test_8x128x128_u16.tif or diadem_OP9_crop_92x77x86_u8.tif");

before(async () => {
  if (NO_DATA) return;
  // a short fit is enough: the check is of the format, not of the fit
  const fit = ["--gaussians", "40", "--iterations", "1", "--seed", "3", "--quiet"];
  const tinc = join(dir, "tinc.vmg"), diadem = join(dir, "diadem.vmg"), diademF16 = join(dir, "diadem-f16.vmg");
  const made = await Promise.all([vmg(["compress", TINC!, "-o", tinc, ...fit]), vmg(["compress", DIADEM!, "-o", diadem, ...fit])]);
  for (const m of made) assert.equal(m.code, 0, m.stderr);
  const conv = await vmg(["convert", diadem, "-o", diademF16, "--encoding", "f16"]);
  assert.equal(conv.code, 0, conv.stderr);
  real.push(
    { name: "tinc packed", path: tinc, scale: 0, box: "0:8,48:80,40:72" },
    { name: "DIADEM packed", path: diadem, scale: 2 },
    { name: "DIADEM float16", path: diademF16, scale: 1, box: "10:30,10:30,10:30" },
  );
});

test("the spec reader decodes files written by vmg compress and vmg convert as vmg decode does", { skip: NO_DATA, timeout: 120_000 }, async (t) => {
  await Promise.all(real.map(async (c, i) => {
    const { name, path } = c;
    const label = `${name} scale ${c.scale}${c.box ? ` box ${c.box}` : ""}`;
    const bytes = new Uint8Array(readFileSync(path));
    assert.equal(readVmg(bytes).header.encoding, name.endsWith("float16") ? "f16" : "packed", `${label}: encoding`);
    const out = join(dir, `${name.replace(/\W/g, "-")}-${i}.zarr`);
    const [py, d] = await Promise.all([
      pyDecode(path, c.scale, c.box),
      vmg(["decode", path, "-o", out, "--scale", String(c.scale), ...(c.box ? ["--box", c.box] : []), "--quiet"]),
    ]);
    assert.equal(d.code, 0, d.stderr);
    const peak = assertSameFile(py, bytes, label);
    const free = assertSameValues(py, (await openVolume(out)).data, peak, label);
    t.diagnostic(`${label}: ${py.gaussians.length} Gaussians, ${py.values.length} voxels, ${py.values.length - free} of them pinned exactly`);
  }));
});

/** Offset of the Gaussian payload. */
const payloadAt = (v: DataView) => v.getUint32(12, true) + 4 * v.getUint32(108, true);

/** The file without the last `k` bytes of its Gaussian payload (L reduced to match), resealed. */
function cutPayload(b: Uint8Array, v: DataView, k: number): Uint8Array {
  const end = payloadAt(v) + v.getUint32(112, true);
  const c = new Uint8Array(b.length - k);
  c.set(b.subarray(0, end - k));
  c.set(b.subarray(end), end - k);
  new DataView(c.buffer).setUint32(112, v.getUint32(112, true) - k, true);
  return reseal(c);
}

/**
 * Moves a packed table's log₂ origin (s₀ at table offset 26, α₀ at 36) so that the file's largest
 * decoded standard deviation or |amplitude| becomes `target` (to within the binary32 rounding of
 * the origin, relative 10⁻⁶): every value of the field is multiplied by one factor.
 */
function raisePackedLargest(b: Uint8Array, v: DataView, field: "scale" | "amplitude", target: number): void {
  const { gaussians, count } = readVmg(b);
  let largest = 0;
  for (let i = 0; i < count; i++) {
    const at = i * PARAMS_PER_GAUSSIAN;
    for (const k of field === "scale" ? [P_SCALE, P_SCALE + 1, P_SCALE + 2] : [P_AMP]) largest = Math.max(largest, Math.abs(gaussians[at + k]!));
  }
  const o = payloadAt(v) + (field === "scale" ? 26 : 36);
  v.setFloat32(o, v.getFloat32(o, true) + Math.log2(target / largest), true);
}

/** The smallest binary16 value above `x` (positive x). */
function halfAbove(x: number): number {
  const h = toHalfBits(x);
  return fromHalfBits(h) > x ? h : h + 1;
}

const diagonalOf = (v: DataView) => volumeDiagonal([v.getUint32(20, true), v.getUint32(24, true), v.getUint32(28, true)]);

/**
 * Damaged copies of golden files: [what, file, edit of the bytes (resealed unless it returns new
 * bytes), and for a file damaged just past a bound of § 6, how far past it at most: the TypeScript
 * reader's CountBoundError or ParameterBoundError must name a value in (limit, limit + that]].
 */
const DAMAGE: [string, string, (b: Uint8Array, v: DataView) => Uint8Array | void, number?][] = [
  ["wrong magic", "packed-poly2-uint8.vmg", (b) => { b[1] = 0x57; }],
  ["cut to 15 bytes", "packed-poly2-uint8.vmg", (b) => b.slice(0, 15)],
  ["cut by one byte", "packed-poly2-uint8.vmg", (b) => reseal(b.slice(0, b.length - 1))],
  ["major version 2", "packed-poly2-uint8.vmg", (_, v) => { v.setUint16(8, 2, true); }],
  ["header length 100", "packed-poly2-uint8.vmg", (_, v) => { v.setUint32(12, 100, true); }],
  ["a payload byte flipped, checksum kept", "packed-poly2-uint8.vmg", (b) => { b[b.length - 20] = b[b.length - 20]! ^ 1; return b; }],
  ["a feature flag", "packed-poly2-uint8.vmg", (_, v) => { v.setUint32(16, 4, true); }],
  ["dtype code 8", "packed-poly2-uint8.vmg", (b) => { b[72] = 8; }],
  ["encoding code 2", "packed-poly2-uint8.vmg", (b) => { b[73] = 2; }],
  ["background kind 3", "packed-poly2-uint8.vmg", (b) => { b[74] = 3; }],
  ["shape z 0", "packed-poly2-uint8.vmg", (_, v) => { v.setUint32(20, 0, true); }],
  ["voxel size −1", "packed-poly2-uint8.vmg", (_, v) => { v.setFloat64(40, -1, true); }],
  ["unit byte 0x7F", "packed-poly2-uint8.vmg", (b) => { b[56] = 0x7f; }],
  ["truncation radius 9", "packed-poly2-uint8.vmg", (_, v) => { v.setFloat32(84, 9, true); }],
  ["value scale 0", "packed-poly2-uint8.vmg", (_, v) => { v.setFloat64(96, 0, true); }],
  ["polynomial degree 5", "packed-poly2-uint8.vmg", (b) => { b[75] = 5; }],
  ["polynomial degree 1 for 10 parameters", "packed-poly2-uint8.vmg", (b) => { b[75] = 1; }],
  ["a NaN background parameter", "packed-poly2-uint8.vmg", (_, v) => { v.setFloat32(v.getUint32(12, true), NaN, true); }],
  ["packed table layout 2", "packed-poly2-uint8.vmg", (_, v) => { v.setUint8(payloadAt(v), 2); }],
  ["packed rotation bits 1", "packed-poly2-uint8.vmg", (_, v) => { v.setUint8(payloadAt(v) + 35, 1); }],
  ["packed count one above ⌊(L − 45)/2⌋", "packed-poly2-uint8.vmg", (_, v) => { v.setUint32(104, Math.floor((v.getUint32(112, true) - 45) / 2) + 1, true); }, 1],
  ["packed count one above the voxels", "packed-poly2-uint8.vmg", (_, v) => { v.setUint32(20, 1, true); v.setUint32(24, 1, true); v.setUint32(28, v.getUint32(104, true) - 1, true); }, 1],
  ["packed cell shift 21", "packed-poly2-uint8.vmg", (_, v) => { v.setUint8(payloadAt(v) + 25, 21); }],
  ["packed stream cut by one byte", "packed-poly2-uint8.vmg", (b, v) => cutPayload(b, v, 1)],
  ["empty packed stream cut to no bytes (L = 45)", "packed-empty.vmg", (b, v) => cutPayload(b, v, 4)],
  ["packed standard deviation just above the diagonal", "packed-poly2-uint8.vmg", (b, v) => { raisePackedLargest(b, v, "scale", diagonalOf(v) * (1 + 1e-4)); }, 3e-3],
  ["a packed scale origin of 2000 octaves (2^x overflows binary64)", "packed-poly2-uint8.vmg", (_, v) => { v.setFloat32(payloadAt(v) + 26, 2000, true); }],
  ["a packed |amplitude| of about 65505, just above 65504", "packed-poly2-uint8.vmg", (b, v) => { raisePackedLargest(b, v, "amplitude", MAX_AMPLITUDE + 1); }, 1.1],
  ["grid nodes 0", "packed-grid-float32.vmg", (_, v) => { v.setUint16(78, 0, true); }],
  ["float16 count one more", "f16-constant.vmg", (_, v) => { v.setUint32(104, v.getUint32(104, true) + 1, true); }],
  ["float16 count one above the voxels", "f16-constant.vmg", (_, v) => { v.setUint32(20, 1, true); v.setUint32(24, 1, true); v.setUint32(28, v.getUint32(104, true) - 1, true); }, 1],
  ["a float16 standard deviation just above the diagonal", "f16-constant.vmg", (_, v) => { v.setUint16(payloadAt(v) + 6, halfAbove(diagonalOf(v)), true); }, 2 ** -6],
  ["version 1.1 with header length 120", "f16-constant.vmg", (_, v) => { v.setUint16(10, 1, true); }],
  ["a NaN origin", "v1.1-origin-packed-int16.vmg", (_, v) => { v.setFloat64(128, NaN, true); }],
  ["a float16 amplitude +∞", "f16-constant.vmg", (_, v) => { v.setUint16(payloadAt(v) + 20, 0x7c00, true); }],
  ["a float16 scale 0", "f16-constant.vmg", (_, v) => { v.setUint16(payloadAt(v) + 6, 0, true); }],
  ["a float16 quaternion 0", "f16-constant.vmg", (_, v) => { const o = payloadAt(v) + 12; for (let k = 0; k < 4; k++) v.setUint16(o + 2 * k, 0, true); }],
  ["an unknown section made critical", "v1.7-future-f16.vmg", (b) => { b[findTag(b, "XTRA") + 4] = 3; }],
  ["a section tag with a space", "v1.7-future-f16.vmg", (b) => { b[findTag(b, "XTRA") + 3] = 0x20; }],
  ["a byte between the last section and the checksum", "f16-constant.vmg", (b) => { const c = new Uint8Array(b.length + 1); c.set(b.subarray(0, b.length - 4)); return reseal(c); }],
];

function findTag(b: Uint8Array, tag: string): number {
  const i = Buffer.from(b).lastIndexOf(tag, undefined, "latin1");
  assert.ok(i >= 0, `no ${tag} section`);
  return i;
}

test("damaged files are refused by the spec reader and the TypeScript reader with the same error class", { skip: NO_PYTHON }, async () => {
  await Promise.all(DAMAGE.map(async ([what, name, edit, over], i) => {
    const b = readBytes(name);
    const edited = edit(b, new DataView(b.buffer, b.byteOffset, b.byteLength));
    const bytes = edited ?? reseal(b);
    let tsError: Error | undefined;
    try { readVmg(bytes); } catch (e) { tsError = e as Error; }
    const path = join(dir, `damaged-${i}.vmg`);
    writeFileSync(path, bytes);
    const r = await python([path]);
    const pyClass = r.code === 0 ? "accepted" : (/^vmg_reader: (\w+):/.exec(r.stderr)?.[1] ?? r.stderr);
    assert.ok(tsError, `${what}: the TypeScript reader accepts it`);
    assert.equal(pyClass, tsError.name, `${what} (${name}): TypeScript ${tsError.message}, spec reader ${r.stderr.trim()}`);
    if (over !== undefined) {
      assert.ok(tsError instanceof CountBoundError || tsError instanceof ParameterBoundError, `${what}: ${tsError.message}`);
      const excess = (tsError instanceof CountBoundError ? tsError.count : Math.abs(tsError.value)) - tsError.limit;
      assert.ok(excess > 0 && excess <= over, `${what}: ${tsError.message} is not just past the bound`);
    }
  }));
});

test("META sections are read alike: first one only, UTF-8 with BOM and replacement, JSON objects only", { skip: NO_PYTHON }, async () => {
  const enc = (t: string | number[]) => (typeof t === "string" ? new TextEncoder().encode(t) : Uint8Array.from(t));
  const cases: [string, (string | number[])[], Record<string, unknown>][] = [
    ["two META sections", ['{"a":1}', '{"b":2}'], { a: 1 }],
    ["a byte-order mark", [[0xef, 0xbb, 0xbf, ...enc('{"a":1}')]], { a: 1 }],
    ["an invalid UTF-8 byte", [[...enc('{"a":"x'), 0xff, ...enc('y"}')]], { a: "x\ufffdy" }],
    ["NaN, which is not JSON", ['{"a":NaN}'], {}],
    ["an array", ["[1,2]"], {}],
  ];
  await Promise.all(cases.map(async ([what, metas, expected], i) => {
    const file = readVmg(readBytes("packed-empty.vmg"));
    file.sections = metas.map((m) => ({ tag: "META", flags: 0, data: enc(m) }));
    const path = join(dir, `meta-${i}.vmg`);
    writeFileSync(path, writeVmg(file));
    assert.deepEqual(getMetadata(readVmg(readFileSync(path))), expected, `${what}: TypeScript reader`);
    assert.deepEqual((await pyDecode(path, 0, "0:1,0:1,0:1")).header.metadata, expected, `${what}: spec reader`);
  }));
});
