import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { fromArrayBuffer } from "geotiff";
import UTIF from "utif2";
import type { Volume } from "../src/core/volume.js";
import {
  NotAVolumeError, UnsupportedDTypeError, UnsupportedFormatError, VolumeReadError, VolumeWriteError,
} from "../src/io/errors.js";
import { decodeTiffStack, encodeTiffStack, rational } from "../src/io/tiff.js";
import { openTiffStack } from "../src/node/atomic-write.js";

/** Deterministic test pattern (LCG) so failures reproduce. */
function pattern(n: number, seed: number, scale: number, offset = 0): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return offset + (s / 2 ** 32) * scale;
  });
}

function vol(shape: [number, number, number], data: Volume["data"], extra: Partial<Volume> = {}): Volume {
  const dtype = data instanceof Uint8Array ? "uint8" : data instanceof Uint16Array ? "uint16" : data instanceof Int16Array ? "int16"
    : data instanceof Int8Array ? "int8" : data instanceof Float32Array ? "float32" : data instanceof Uint32Array ? "uint32" : "int32";
  return { shape, dtype, data, ...extra };
}

function indexOf(hay: Uint8Array, needle: string): number {
  const n = new TextEncoder().encode(needle);
  outer: for (let i = 0; i + n.length <= hay.length; i++) {
    for (let k = 0; k < n.length; k++) if (hay[i + k] !== n[k]) continue outer;
    return i;
  }
  return -1;
}

/** Visit every IFD entry of a little-endian TIFF; `fn` may patch the inline value. */
function forEachEntry(b: Uint8Array, fn: (page: number, tag: number, valueAt: number, view: DataView) => void): void {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let ifd = v.getUint32(4, true), page = 0;
  while (ifd) {
    const n = v.getUint16(ifd, true);
    for (let i = 0; i < n; i++) fn(page, v.getUint16(ifd + 2 + 12 * i, true), ifd + 2 + 12 * i + 8, v);
    ifd = v.getUint32(ifd + 2 + 12 * n, true);
    page++;
  }
}

const cases: { label: string; v: () => Volume }[] = [
  { label: "uint8 5x6x7", v: () => vol([5, 6, 7], Uint8Array.from(pattern(210, 1, 256).map(Math.floor))) },
  { label: "uint16 4x9x3", v: () => vol([4, 9, 3], Uint16Array.from(pattern(108, 2, 65536).map(Math.floor))) },
  { label: "int16 3x4x5", v: () => vol([3, 4, 5], Int16Array.from(pattern(60, 3, 65536, -32768).map(Math.floor))) },
  { label: "int8 2x3x3", v: () => vol([2, 3, 3], Int8Array.from(pattern(18, 4, 256, -128).map(Math.floor))) },
  { label: "float32 3x5x4", v: () => vol([3, 5, 4], Float32Array.from(pattern(60, 5, 2000, -1000))) },
  { label: "uint16 single plane", v: () => vol([1, 8, 6], Uint16Array.from(pattern(48, 6, 4096).map(Math.floor))) },
];

for (const c of cases) {
  test(`TIFF round trip: ${c.label}`, async () => {
    const v = c.v();
    const bytes = encodeTiffStack(v);
    const back = await decodeTiffStack(bytes, "mem.tif");
    assert.deepEqual(back.shape, v.shape);
    assert.equal(back.dtype, v.dtype);
    assert.deepEqual(Array.from(back.data), Array.from(v.data));
    assert.equal(back.voxelSize, undefined);

    // geotiff on its own (its readRasters, not our block placement): one page per plane, same samples.
    const tif = await fromArrayBuffer(bytes.slice().buffer);
    assert.equal(await tif.getImageCount(), v.shape[0]);
    const plane = v.shape[1] * v.shape[2];
    for (let z = 0; z < v.shape[0]; z++) {
      const img = await tif.getImage(z);
      assert.equal(img.getWidth(), v.shape[2]);
      assert.equal(img.getHeight(), v.shape[1]);
      const got = await img.readRasters({ interleave: true });
      assert.deepEqual(Array.from(got), Array.from(v.data.subarray(z * plane, (z + 1) * plane)));
    }
    assert.match(String(await (await tif.getImage(0)).fileDirectory.loadValue("ImageDescription")), /^ImageJ=1\.11a\n/);
  });
}

test("TIFF writer: little-endian, ImageJ stack description, readable by UTIF", async () => {
  const v = vol([3, 4, 5], Uint16Array.from(pattern(60, 7, 65536).map(Math.floor)), { voxelSize: [2, 0.3, 0.25], unit: "micrometer" });
  const bytes = encodeTiffStack(v);
  assert.equal(String.fromCharCode(bytes[0]!, bytes[1]!), "II");
  const desc = String(await (await (await fromArrayBuffer(bytes.slice().buffer)).getImage(0)).fileDirectory.loadValue("ImageDescription")).replace(/\0$/, "");
  assert.equal(desc, "ImageJ=1.11a\nimages=3\nslices=3\nunit=micron\nspacing=2\nloop=false\n");
  const ifds = UTIF.decode(bytes.buffer as ArrayBuffer);
  assert.equal(ifds.length, 3);
  for (const ifd of ifds) {
    assert.deepEqual(ifd["t256"], [5]);
    assert.deepEqual(ifd["t258"], [16]);
    UTIF.decodeImage(bytes.buffer as ArrayBuffer, ifd);
    assert.equal(ifd.data.length, 4 * 5 * 2);
  }
});

test("a TIFF stack written plane range by plane range, in any order, is the encoder's file; an aborted one leaves nothing", async () => {
  const v = vol([7, 5, 6], Uint16Array.from(pattern(210, 3, 65535), Math.floor), { voxelSize: [2, 0.5, 0.5], unit: "micrometer", origin: [1, 2, 3] });
  const dir = mkdtempSync(join(tmpdir(), "vmg-tiff-stream-"));
  try {
    const tiff = await openTiffStack(join(dir, "out.tif"), v);
    for (const [z0, z1] of [[4, 7], [0, 1], [1, 4]] as const) tiff.planes(v.data, z0, z1);
    await tiff.commit();
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, "out.tif"))), encodeTiffStack(v));
    const dropped = await openTiffStack(join(dir, "dropped.tif"), v);
    dropped.planes(v.data, 0, 7);
    await dropped.abort();
    assert.deepEqual(readdirSync(dir), ["out.tif"], "no temporary file or partial output left");
    await assert.rejects(openTiffStack(join(dir, "u32.tif"), vol([1, 2, 2], new Uint32Array(4))), (e: unknown) => e instanceof VolumeWriteError && /u32\.tif: cannot write uint32/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("TIFF voxel size and unit survive a round trip (rationals chosen to read back exactly)", async () => {
  const v = vol([2, 3, 4], new Uint8Array(24), { voxelSize: [2.5, 0.3, 0.1625], unit: "µm" });
  const back = await decodeTiffStack(encodeTiffStack(v), "cal.tif");
  assert.deepEqual(back.voxelSize, [2.5, 0.3, 0.1625]);
  assert.equal(back.unit, "micrometer");
  assert.deepEqual(rational(1 / 0.3), [10, 3]);
  const nm = await decodeTiffStack(encodeTiffStack({ ...v, voxelSize: [200, 65, 65], unit: "nm" }), "nm.tif");
  assert.deepEqual([nm.voxelSize, nm.unit], [[200, 65, 65], "nanometer"]);
});

test("TIFF reader: rejects non-TIFF, empty and truncated input with typed errors", async () => {
  await assert.rejects(decodeTiffStack(new Uint8Array(0), "empty.tif"), NotAVolumeError);
  await assert.rejects(decodeTiffStack(new TextEncoder().encode("hello, this is not a tiff"), "text.tif"),
    (e: unknown) => e instanceof UnsupportedFormatError && /^text\.tif: not a TIFF file/.test(e.message));
  const good = encodeTiffStack(vol([4, 16, 16], new Uint16Array(1024).fill(7)));
  for (const cut of [good.subarray(0, 600), good.slice(0, 600), good.slice(0, 60)]) {
    await assert.rejects(decodeTiffStack(cut, "cut.tif"),
      (e: unknown) => e instanceof VolumeReadError && e.source === "cut.tif" && /truncated/.test(e.problem));
  }
  const big = good.slice();
  big[2] = 43; // BigTIFF magic over a classic header: offsets read as 64-bit point nowhere
  await assert.rejects(decodeTiffStack(big, "big.tif"), (e: unknown) => e instanceof VolumeReadError && e.source === "big.tif");
});

test("TIFF reader: a looping chain of image directories is an error, not a hang", async () => {
  const bytes = encodeTiffStack(vol([3, 4, 4], new Uint8Array(48).fill(1)));
  const v = new DataView(bytes.buffer);
  // point the last IFD's next-IFD field back at the second IFD
  let ifd = v.getUint32(4, true), second = 0, last = 0;
  for (let k = 0; ifd; k++) { if (k === 1) second = ifd; last = ifd; ifd = v.getUint32(ifd + 2 + 12 * v.getUint16(ifd, true), true); }
  v.setUint32(last + 2 + 12 * v.getUint16(last, true), second, true);
  await assert.rejects(decodeTiffStack(bytes, "loop.tif"), (e: unknown) => e instanceof VolumeReadError && /^loop\.tif: corrupt TIFF: the chain of image directories loops$/.test(e.message));
});

test("TIFF reader: rejects RGB(A) with UnsupportedFormatError", async () => {
  const rgba = new Uint8Array(4 * 3 * 2).fill(100);
  const bytes = new Uint8Array(UTIF.encodeImage(rgba, 3, 2));
  await assert.rejects(decodeTiffStack(bytes, "rgb.tif"),
    (e: unknown) => e instanceof UnsupportedFormatError && /rgb\.tif: page 0 has 4 samples per pixel/.test(e.message));
});

test("TIFF reader: unsupported sample types name the type", async () => {
  const bytes = encodeTiffStack(vol([2, 2, 2], new Float32Array(8)));
  forEachEntry(bytes, (_p, tag, at, v) => { if (tag === 339) v.setUint16(at, 1, true); }); // float32 -> uint32
  await assert.rejects(decodeTiffStack(bytes, "u32.tif"),
    (e: unknown) => e instanceof UnsupportedDTypeError && e.dtype === "uint32" && e.message.startsWith("u32.tif: unsupported voxel type uint32"));
  assert.throws(() => encodeTiffStack(vol([1, 2, 2], new Uint32Array(4))), VolumeWriteError);
});

test("TIFF reader: mismatched page sizes and ImageJ multichannel stacks are refused", async () => {
  const bytes = encodeTiffStack(vol([3, 4, 8], new Uint8Array(96)));
  forEachEntry(bytes, (p, tag, at, v) => { if (p === 1 && tag === 256) v.setUint32(at, 4, true); });
  await assert.rejects(decodeTiffStack(bytes, "mixed.tif"),
    (e: unknown) => e instanceof NotAVolumeError && /page 1 is 4x4 but page 0 is 8x4/.test(e.message));

  const multi = encodeTiffStack(vol([4, 2, 2], new Uint8Array(16)));
  const at = indexOf(multi, "loop=false");
  multi.set(new TextEncoder().encode("channels=2"), at);
  await assert.rejects(decodeTiffStack(multi, "hyper.tif"), /2 channels/);
});

const tincUrl = new URL("../../shared/data/tinc_test_8x128x128_u16.tif", import.meta.url);

test("real data: tinc_test_8x128x128_u16.tif", async (t) => {
  const path = fileURLToPath(tincUrl);
  if (!existsSync(path)) {
    t.skip(`../shared/data not present: ${path}`);
    return;
  }
  const v = await decodeTiffStack(new Uint8Array(readFileSync(path)), path);
  assert.deepEqual(v.shape, [8, 128, 128]);
  assert.equal(v.dtype, "uint16");
  let lo = Infinity, hi = -Infinity;
  for (const x of v.data) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
  assert.deepEqual([lo, hi], [3651, 57562]);
  // and it re-encodes to the same samples
  assert.deepEqual((await decodeTiffStack(encodeTiffStack(v), "re.tif")).data, v.data);
});
