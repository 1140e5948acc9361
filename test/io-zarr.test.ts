import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { after, before, test } from "node:test";
import type { Volume } from "../src/core/volume.js";
import { MissingChunkError, NotAVolumeError, UnsupportedDTypeError, VolumeReadError, VolumeWriteError } from "../src/io/errors.js";
import { openZarrVolume, writeZarrArrayV3, writeZarrV3 } from "../src/io/zarr.js";
import { writeFileAtomic, writeVolume } from "../src/node/atomic-write.js";
import { FileSystemStore } from "../src/node/fs-store.js";
import { openVolume } from "../src/node/open-volume.js";

let root = "";
before(() => { root = mkdtempSync(join(tmpdir(), "volmicro-io-")); });
after(() => { rmSync(root, { recursive: true, force: true }); });

function ramp(shape: [number, number, number]): Uint16Array {
  const n = shape[0] * shape[1] * shape[2];
  return Uint16Array.from({ length: n }, (_, i) => (i * 37 + 11) % 65536);
}

function subBox(v: Volume, z0: number, z1: number, y0: number, y1: number, x0: number, x1: number): number[] {
  const [, ny, nx] = v.shape;
  const out: number[] = [];
  for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out.push(v.data[(z * ny + y) * nx + x]!);
  return out;
}

type V2Type = "<u2" | "<u1" | "<f8" | ">i2" | "<f4";

/**
 * A zarr v2 array written by hand: `.zarray` plus raw (uncompressed) full-size chunks named
 * "i.j.k", in C or F order. `value(idx)` gives the element at an n-d index.
 */
function writeV2Array(dir: string, shape: number[], chunks: number[], dtype: V2Type, value: (idx: number[]) => number, order: "C" | "F" = "C"): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, ".zarray"), JSON.stringify({
    zarr_format: 2, shape, chunks, dtype, compressor: null, fill_value: 0, order, filters: null,
  }));
  const width = { "<u1": 1, "<u2": 2, ">i2": 2, "<f4": 4, "<f8": 8 }[dtype];
  const grid = shape.map((n, i) => Math.ceil(n / chunks[i]!));
  const chunkLen = chunks.reduce((a, b) => a * b, 1);
  for (const cc of cartesian(grid)) {
    const buf = new DataView(new ArrayBuffer(chunkLen * width));
    for (const local of cartesian(chunks)) {
      const idx = local.map((l, i) => cc[i]! * chunks[i]! + l);
      const inside = idx.every((v, i) => v < shape[i]!);
      const x = inside ? value(idx) : 0;
      let lin = 0;
      const axes = order === "C" ? local.map((_, i) => i) : local.map((_, i) => local.length - 1 - i);
      for (const a of axes) lin = lin * chunks[a]! + local[a]!;
      const at = lin * width;
      if (dtype === "<u1") buf.setUint8(at, x);
      else if (dtype === "<u2") buf.setUint16(at, x, true);
      else if (dtype === ">i2") buf.setInt16(at, x, false);
      else if (dtype === "<f4") buf.setFloat32(at, x, true);
      else buf.setFloat64(at, x, true);
    }
    writeFileSync(join(dir, cc.join(".")), new Uint8Array(buf.buffer));
  }
}

function* cartesian(dims: number[]): Generator<number[]> {
  const idx = dims.map(() => 0);
  if (dims.some((d) => d === 0)) return;
  for (;;) {
    yield [...idx];
    let k = dims.length - 1;
    while (k >= 0 && ++idx[k]! === dims[k]) idx[k--] = 0;
    if (k < 0) return;
  }
}

const zyx = (idx: number[]) => { const [z, y, x] = idx.slice(-3) as [number, number, number]; return z * 100 + y * 10 + x; };

test("zarr v3: writeZarrV3 then read back, full and a sub-box", async () => {
  const dir = join(root, "v3.zarr");
  const shape: [number, number, number] = [7, 9, 11];
  const v: Volume = { shape, dtype: "uint16", data: ramp(shape), voxelSize: [2, 0.5, 0.25], unit: "µm" };
  await writeZarrV3(new FileSystemStore(dir), v, { chunks: [3, 4, 5] });
  const meta = JSON.parse(readFileSync(join(dir, "zarr.json"), "utf8"));
  assert.equal(meta.attributes.ome.version, "0.5");
  assert.deepEqual(meta.attributes.ome.multiscales[0].axes.map((a: { unit: string }) => a.unit), ["micrometer", "micrometer", "micrometer"]);
  assert.ok(existsSync(join(dir, "0", "c", "2", "2", "2")), "edge chunk written");

  const src = await openZarrVolume(new FileSystemStore(dir), dir);
  assert.deepEqual([src.shape, src.dtype, src.chunks, src.zarrFormat, src.voxelSize, src.unit], [shape, "uint16", [3, 4, 5], 3, [2, 0.5, 0.25], "micrometer"]);
  const full = await src.read();
  assert.deepEqual(full.data, v.data);
  assert.deepEqual([full.voxelSize, full.unit], [[2, 0.5, 0.25], "micrometer"]);
  const part = await src.read({ z0: 2, z1: 6, y0: 1, y1: 8, x0: 4, x1: 11 });
  assert.deepEqual(part.shape, [4, 7, 7]);
  assert.deepEqual(Array.from(part.data), subBox(v, 2, 6, 1, 8, 4, 11));
  await assert.rejects(src.read({ z0: 0, z1: 8, y0: 0, y1: 1, x0: 0, x1: 1 }), RangeError);

  // uncompressed, float32, plain array at the root
  const fdir = join(root, "plain-f32.zarr");
  const f: Volume = { shape: [2, 3, 4], dtype: "float32", data: Float32Array.from({ length: 24 }, (_, i) => i / 3 - 2) };
  await writeZarrArrayV3(new FileSystemStore(fdir), "/", f, { compression: "none" });
  const fb = await (await openZarrVolume(new FileSystemStore(fdir), fdir)).read();
  assert.deepEqual([fb.dtype, fb.data, fb.voxelSize], ["float32", f.data, undefined]);
});

test("zarr v2: C and F order, big-endian, leading singleton axes squeezed", async () => {
  const shape = [5, 6, 7];
  for (const [label, dtype, order] of [["c", "<u2", "C"], ["f", "<u2", "F"], ["be", ">i2", "C"]] as const) {
    const dir = join(root, `v2-${label}.zarr`);
    writeV2Array(dir, shape, [2, 4, 3], dtype, (i) => (dtype === ">i2" ? zyx(i) - 300 : zyx(i)), order);
    const src = await openZarrVolume(new FileSystemStore(dir), dir);
    assert.equal(src.zarrFormat, 2);
    const v = await src.read();
    assert.deepEqual(v.shape, [5, 6, 7]);
    assert.equal(v.dtype, dtype === ">i2" ? "int16" : "uint16");
    for (const idx of cartesian(shape)) {
      const want = dtype === ">i2" ? zyx(idx) - 300 : zyx(idx);
      assert.equal(v.data[(idx[0]! * 6 + idx[1]!) * 7 + idx[2]!], want, `${label} at ${idx}`);
    }
    const part = await src.read({ z0: 1, z1: 4, y0: 2, y1: 5, x0: 0, x1: 7 });
    assert.deepEqual(Array.from(part.data), subBox(v, 1, 4, 2, 5, 0, 7));
  }
  const tczyx = join(root, "v2-tczyx.zarr");
  writeV2Array(tczyx, [1, 1, 3, 4, 5], [1, 1, 2, 2, 5], "<u1", zyx);
  const v = await (await openZarrVolume(new FileSystemStore(tczyx), tczyx)).read();
  assert.deepEqual(v.shape, [3, 4, 5]);
  assert.equal(v.data[(2 * 4 + 3) * 5 + 4], 234);

  const yx = join(root, "v2-yx.zarr");
  writeV2Array(yx, [3, 4], [2, 2], "<f4", (i) => i[0]! * 10 + i[1]! + 0.5);
  const plane = await openVolume(yx);
  assert.deepEqual([plane.shape, plane.dtype, plane.data[11]], [[1, 3, 4], "float32", 23.5]);
  const line = join(root, "v2-x.zarr");
  writeV2Array(line, [6], [6], "<u1", (i) => i[0]!);
  await assert.rejects(openVolume(line), (e: unknown) => e instanceof NotAVolumeError && /1 dimension/.test(e.message));

  const twoChannels = join(root, "v2-czyx.zarr");
  writeV2Array(twoChannels, [2, 3, 4, 5], [1, 3, 4, 5], "<u1", zyx);
  await assert.rejects(openZarrVolume(new FileSystemStore(twoChannels), twoChannels), NotAVolumeError);
});

function writeOme04(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, ".zgroup"), JSON.stringify({ zarr_format: 2 }));
  writeFileSync(join(dir, ".zattrs"), JSON.stringify({
    multiscales: [{
      version: "0.4", name: "test",
      axes: [
        { name: "c", type: "channel" },
        { name: "z", type: "space", unit: "micrometer" },
        { name: "y", type: "space", unit: "micrometer" },
        { name: "x", type: "space", unit: "nanometer" },
      ],
      datasets: [
        { path: "0", coordinateTransformations: [{ type: "scale", scale: [1, 2, 0.5, 250] }] },
        { path: "1", coordinateTransformations: [{ type: "scale", scale: [1, 4, 1, 500] }] },
      ],
    }],
  }));
  writeV2Array(join(dir, "0"), [1, 4, 6, 8], [1, 2, 3, 4], "<u2", zyx);
  writeV2Array(join(dir, "1"), [1, 2, 3, 4], [1, 2, 3, 4], "<u2", (i) => 5000 + zyx(i));
}

test("OME-Zarr 0.4 (v2) group: finest level by default, level 1 on request, units unified", async () => {
  const dir = join(root, "ome04.zarr");
  writeOme04(dir);
  const src = await openZarrVolume(new FileSystemStore(dir), dir);
  assert.deepEqual(src.shape, [4, 6, 8]);
  assert.equal(src.levels.length, 2);
  assert.deepEqual(src.levels.map((l) => l.shape), [[4, 6, 8], [2, 3, 4]]);
  const v0 = await src.read();
  // z and y were micrometre, x nanometre: everything is expressed in x's unit
  assert.deepEqual([src.voxelSize, src.unit], [[2000, 500, 250], "nanometer"]);
  assert.deepEqual([v0.voxelSize, v0.unit], [[2000, 500, 250], "nanometer"]);
  assert.deepEqual(src.levels[1]!.voxelSize, [4000, 1000, 500]);
  assert.equal(v0.data[(3 * 6 + 5) * 8 + 7], 357);

  const l1 = await openVolume(dir, { level: 1 });
  assert.deepEqual(l1.shape, [2, 3, 4]);
  assert.deepEqual([l1.voxelSize, l1.unit], [[4000, 1000, 500], "nanometer"]);
  assert.equal(l1.data[(1 * 3 + 2) * 4 + 3], 5123);
  await assert.rejects(openVolume(dir, { level: 2 }), /level 2 does not exist/);
});

test("absent chunks read as the fill value; strict refuses them naming the chunk", async () => {
  const dir = join(root, "ome04-missing.zarr");
  writeOme04(dir);
  unlinkSync(join(dir, "0", "0.1.1.0"));
  const lenient = await (await openZarrVolume(new FileSystemStore(dir), dir)).read();
  assert.equal(lenient.data[(2 * 6 + 3) * 8 + 0], 0); // inside the missing chunk: fill value
  assert.equal(lenient.data[(2 * 6 + 0) * 8 + 0], 200);
  const src = await openZarrVolume(new FileSystemStore(dir), dir, { strict: true });
  await assert.rejects(src.read(), (e: unknown) =>
    e instanceof MissingChunkError && e.chunkKey === "0/0.1.1.0" && e.message.startsWith(`${dir}: missing zarr chunk 0/0.1.1.0`));
  // a box that avoids the chunk still reads
  const ok = await src.read({ z0: 0, z1: 2, y0: 0, y1: 6, x0: 0, x1: 8 });
  assert.equal(ok.data[0], 0);

  const v3 = join(root, "v3-missing.zarr");
  await writeZarrV3(new FileSystemStore(v3), { shape: [4, 4, 4], dtype: "uint8", data: new Uint8Array(64).fill(9) }, { chunks: [2, 4, 4] });
  unlinkSync(join(v3, "0", "c", "1", "0", "0"));
  await assert.rejects(openVolume(v3, { strict: true }), (e: unknown) => e instanceof MissingChunkError && e.chunkKey === "0/c/1/0/0");
  assert.deepEqual(Array.from((await openVolume(v3)).data.subarray(28, 36)), [9, 9, 9, 9, 0, 0, 0, 0]);
});

test("unsupported dtypes and non-zarr directories give typed errors", async () => {
  const dir = join(root, "f64.zarr");
  writeV2Array(dir, [2, 2, 2], [2, 2, 2], "<f8", (i) => zyx(i) + 0.25);
  const f64 = await openVolume(dir);
  assert.deepEqual([f64.dtype, f64.sourceDType, Array.from(f64.data)], ["float32", "float64", [0.25, 1.25, 10.25, 11.25, 100.25, 101.25, 110.25, 111.25]]);
  const i64 = join(root, "i64.zarr");
  mkdirSync(i64);
  writeFileSync(join(i64, ".zarray"), JSON.stringify({ zarr_format: 2, shape: [2, 2, 2], chunks: [2, 2, 2], dtype: "<i8", compressor: null, fill_value: 0, order: "C", filters: null }));
  await assert.rejects(openVolume(i64), (e: unknown) =>
    e instanceof UnsupportedDTypeError && e.dtype === "int64" && e.message.startsWith(`${i64}: unsupported voxel type int64`));
  const empty = join(root, "not-zarr");
  mkdirSync(empty);
  await assert.rejects(openVolume(empty), /no zarr array or group/);
  await assert.rejects(openVolume(join(root, "nope.tif")), (e: unknown) => e instanceof VolumeReadError && /no such file/.test(e.message));
  const tif = join(root, "one-level.tif");
  await writeVolume(tif, { shape: [1, 2, 2], dtype: "uint8", data: new Uint8Array(4) });
  await assert.rejects(openVolume(tif, { level: 1 }), /level 1 does not exist/);
});

test("writeVolume: atomic TIFF and zarr outputs, refusing to clobber unrelated directories", async () => {
  const v: Volume = { shape: [3, 4, 5], dtype: "uint16", data: ramp([3, 4, 5]), voxelSize: [1, 0.2, 0.2], unit: "micrometer" };
  const tif = join(root, "out.tif");
  await writeVolume(tif, v);
  await writeVolume(tif, { ...v, data: v.data.map((x) => x + 1) }); // replaces the file
  const back = await openVolume(tif);
  assert.equal(back.data[0], v.data[0]! + 1);
  assert.deepEqual([back.voxelSize, back.unit], [[1, 0.2, 0.2], "micrometer"]);

  const z = join(root, "out.zarr");
  await writeVolume(z, v);
  await writeVolume(z, v); // an existing zarr store is replaced
  assert.deepEqual((await openVolume(z)).data, v.data);

  const other = join(root, "precious.zarr");
  mkdirSync(other);
  writeFileSync(join(other, "notes.txt"), "keep me");
  await assert.rejects(writeVolume(other, v), (e: unknown) => e instanceof VolumeWriteError && /refusing to overwrite/.test(e.message));
  assert.equal(readFileSync(join(other, "notes.txt"), "utf8"), "keep me");
  await assert.rejects(writeVolume(join(root, "out.raw"), v), /unknown output format/);
  await assert.rejects(writeFileAtomic(join(root, "no-dir", "x.tif"), new Uint8Array(1)), VolumeWriteError);
  assert.deepEqual(readdirSync(root).filter((n) => n.endsWith(".tmp") || n.endsWith(".old")), [], "no temporaries left");
});

test("http(s): zarr store and TIFF served over HTTP", async () => {
  const dir = join(root, "served");
  mkdirSync(dir);
  const v: Volume = { shape: [5, 6, 7], dtype: "uint16", data: ramp([5, 6, 7]), voxelSize: [3, 1, 1], unit: "micrometer" };
  await writeVolume(join(dir, "img.zarr"), v, { chunks: [2, 3, 4] });
  await writeVolume(join(dir, "img.tif"), v);
  const server: Server = createServer((req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
    if (!path.startsWith(dir) || !existsSync(path) || !/\.(tif|zarr)|zarr\.json|\/c\//.test(path)) {
      res.writeHead(404).end();
      return;
    }
    try {
      res.writeHead(200).end(readFileSync(path));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const base = `http://127.0.0.1:${port}`;
    const z = await openVolume(`${base}/img.zarr`);
    assert.deepEqual([z.shape, z.voxelSize, z.unit], [[5, 6, 7], [3, 1, 1], "micrometer"]);
    assert.deepEqual(z.data, v.data);
    const t = await openVolume(`${base}/img.tif`);
    assert.deepEqual(t.data, v.data);
    await assert.rejects(openVolume(`${base}/missing.tif`), (e: unknown) => e instanceof VolumeReadError && /HTTP 404/.test(e.message));
    await assert.rejects(openVolume(`${base}/missing.zarr`), /no zarr array or group/);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
