/**
 * The WebAssembly SIMD kernel against the JavaScript reference (decoder.test.ts runs the decoder's
 * own invariants on both paths): the same stored values to within one level and fields within
 * 1e-4 of the peak, for every dtype and background model, boxes clipped at the volume's edges,
 * empty boxes, absurd-but-valid Gaussians; its memory grows only as a box needs and is reused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { constantBackground, polynomialTerms, type BackgroundModel, type Box } from "../src/core/background.js";
import { DTYPES, type DType } from "../src/core/dtype.js";
import { P_AMP, PARAMS_PER_GAUSSIAN } from "../src/core/constants.js";
import { fullBox, levelFactors, scaledShape, VmgDecoder } from "../src/decode/decoder.js";
import { installedWasmKernel, tilesOf, WasmKernel } from "../src/decode/wasm-kernel.js";
import { readVmg, writeVmg, type VmgFile } from "../src/format/vmg.js";
import "./helpers/decode-paths.js";
import { randomFile } from "./helpers/files.js";
import { rawVmgFile } from "./helpers/hostile-files.js";

const peak = (f: VmgFile) => {
  let m = 0;
  for (let i = 0; i < f.count; i++) m = Math.max(m, Math.abs(f.gaussians[i * PARAMS_PER_GAUSSIAN + P_AMP]!));
  return m;
};

/** Largest |wasm − js| of the field and of the stored values over `box`, and how many stored values differ. */
function compare(f: VmgFile, box: Box, level = 0): { field: number; values: number; differing: number } {
  const factors = levelFactors(level);
  const js = new VmgDecoder(f, "js"), wasm = new VmgDecoder(f, "wasm");
  const a = js.decodeField(box, factors), b = wasm.decodeField(box, factors);
  assert.equal(wasm.lastPath, "wasm");
  let field = 0;
  for (let i = 0; i < a.length; i++) field = Math.max(field, Math.abs(a[i]! - b[i]!));
  const va = js.decode(box, factors), vb = wasm.decode(box, factors);
  assert.equal(vb.constructor, va.constructor);
  let values = 0, differing = 0;
  for (let i = 0; i < va.length; i++) {
    const d = Math.abs(Number(va[i]) - Number(vb[i]));
    values = Math.max(values, d);
    if (d !== 0) differing++;
  }
  return { field, values, differing };
}

test("wasm and js decode the same field (within 1e-4 of the peak) and values (within one level), every dtype and background, scales 0 and 1", () => {
  const models: BackgroundModel[] = [
    constantBackground(0.12),
    { kind: "polynomial", degree: 2, params: Float64Array.from({ length: polynomialTerms(2).length }, (_, i) => 0.1 + 0.02 * i) },
    { kind: "grid", dims: [3, 4, 5], params: Float64Array.from({ length: 60 }, (_, i) => 0.2 + 0.05 * Math.sin(i * 1.7)) },
  ];
  let seed = 30;
  for (const background of models) for (const dtype of Object.keys(DTYPES) as DType[]) {
    const f = readVmg(writeVmg(randomFile([19, 37, 53], 80, seed++, { dtype, background, maxScale: 7 })));
    if (DTYPES[dtype].integer && DTYPES[dtype].min < 0) f.header.valueOffset = -300; // signed types: values below zero too
    for (const level of [0, 1]) {
      const shape = scaledShape(f.header.shape, levelFactors(level));
      const r = compare(f, fullBox(shape), level);
      assert.ok(r.field <= 1e-4 * peak(f), `${background.kind} ${dtype} scale ${level}: field off by ${r.field}`);
      assert.ok(r.values <= 1, `${background.kind} ${dtype} scale ${level}: values off by ${r.values}`);
    }
  }
});

test("boxes clipped at the volume's edges and corners, one-voxel boxes and boxes no Gaussian reaches decode as the JS path does", () => {
  const f = readVmg(writeVmg(randomFile([24, 40, 61], 60, 44, { maxScale: 6 })));
  const [nz, ny, nx] = f.header.shape;
  const boxes: Box[] = [
    { z0: 0, z1: 5, y0: 0, y1: 3, x0: 0, x1: 7 }, // corner
    { z0: nz - 4, z1: nz, y0: ny - 9, y1: ny, x0: nx - 1, x1: nx }, // far corner, one column wide
    { z0: 7, z1: 8, y0: 13, y1: 14, x0: 29, x1: 30 }, // one voxel
    { z0: 0, z1: nz, y0: 0, y1: ny, x0: nx - 3, x1: nx }, // a slab at the x edge: rows entered mid-segment
  ];
  for (const box of boxes) {
    const r = compare(f, box);
    assert.ok(r.field <= 1e-4 * peak(f) && r.values <= 1, `box ${JSON.stringify(box)}: ${JSON.stringify(r)}`);
  }
  // no Gaussian at all: the background alone, the same values exactly
  const empty = { ...f, gaussians: new Float32Array(0), count: 0 };
  const r = compare(empty, fullBox(f.header.shape));
  assert.deepEqual(r, { field: 0, values: 0, differing: 0 });
});

test("absurd but valid Gaussians: volume-wide, far outside with supports reaching in, needle-thin, extreme amplitudes", () => {
  const shape: [number, number, number] = [20, 33, 47];
  const diag = Math.hypot(...shape) * 0.99;
  const f = rawVmgFile(shape, [
    { centre: [23, 16, 10], scale: [diag, diag, diag], amplitude: 0.5 },
    { centre: [-40, 16, 10], scale: [30, 2, 2], amplitude: 3 },
    { centre: [23, 16, 10], scale: [1e-3, 50, 1e-3], rotation: [0.9, 0.3, 0.2, 0.1], amplitude: 60000 },
    { centre: [5.5, 5.5, 5.5], scale: [1e-3, 1e-3, 1e-3], amplitude: -65504 },
    { centre: [40, 2, 18], scale: [55, 0.7, 40], rotation: [0.5, 0.5, 0.5, 0.5], amplitude: 1 },
  ], "f16");
  f.header.dtype = "float32";
  f.header.valueScale = 1;
  const file = readVmg(writeVmg(f));
  for (const box of [fullBox(shape), { z0: 3, z1: 17, y0: 30, y1: 33, x0: 0, x1: 40 }]) {
    const r = compare(file, box);
    assert.ok(r.field <= 1e-4 * peak(file), `box ${JSON.stringify(box)}: field off by ${r.field}`);
  }
});

test("boxes decoded in tiles (over TILE_VOXELS, wider than a tile) give every voxel the value of a chunk decode of it, and the JS path's within a level", () => {
  for (const [shape, seed] of [[[20, 150, 130], 51], [[3, 90, 700], 52]] as const) {
    const f = readVmg(writeVmg(randomFile([...shape], 150, seed, { maxScale: 8, background: { kind: "grid", dims: [2, 3, 4], params: Float64Array.from({ length: 24 }, (_, i) => 0.1 + 0.01 * i) } })));
    const whole = fullBox(f.header.shape);
    assert.ok(tilesOf(whole).length > 1, "the box is one tile: a weak test");
    const d = new VmgDecoder(f, "wasm");
    const full = d.decode(whole);
    const [nz, ny, nx] = f.header.shape;
    for (const box of [{ z0: 0, z1: nz, y0: 60, y1: 70, x0: 500 % nx, x1: nx }, { z0: 1, z1: 2, y0: 0, y1: ny, x0: 0, x1: 9 }]) {
      const chunk = new VmgDecoder(f, "wasm").decode(box);
      let o = 0;
      for (let z = box.z0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) {
        assert.equal(chunk[o++], full[(z * ny + y) * nx + x], `${shape.join("×")}: voxel ${z},${y},${x}`);
      }
    }
    const r = compare(f, whole);
    assert.ok(r.values <= 1, `${shape.join("×")}: values off by ${r.values}`);
  }
});

test("a grid background of 64³ nodes (2 MiB of params, past any fixed table reserve) decodes on the wasm path as the JS path does", () => {
  const dims: [number, number, number] = [64, 64, 64];
  const params = Float64Array.from({ length: 64 ** 3 }, (_, i) => 0.15 + 0.1 * Math.sin(i * 0.37));
  const f = readVmg(writeVmg(randomFile([64, 70, 72], 120, 61, { background: { kind: "grid", dims, params } })));
  for (const box of [fullBox(f.header.shape), { z0: 10, z1: 18, y0: 3, y1: 11, x0: 60, x1: 72 }]) {
    const r = compare(f, box);
    assert.ok(r.field <= 1e-4 * peak(f) && r.values <= 1, `box ${JSON.stringify(box)}: ${JSON.stringify(r)}`);
  }
});

test("the module's memory grows to the largest box decoded and is reused: a smaller or repeated box allocates nothing", () => {
  const kernel = installedWasmKernel()!;
  const f = readVmg(writeVmg(randomFile([40, 64, 64], 100, 5)));
  const d = new VmgDecoder(f, "wasm");
  d.decode(fullBox(f.header.shape));
  const grown = kernel.bytes;
  assert.ok(grown >= 40 * 64 * 64 * 6, `memory ${grown} bytes cannot hold the box's field and values`);
  d.decode(fullBox(f.header.shape));
  d.decode({ z0: 0, z1: 8, y0: 0, y1: 8, x0: 0, x1: 8 });
  new VmgDecoder(readVmg(writeVmg(randomFile([8, 8, 8], 20, 6))), "wasm").decode(fullBox([8, 8, 8]));
  assert.equal(kernel.bytes, grown);
});

test("an aborted decode stops with the signal's AbortError on the wasm path too", () => {
  const f = readVmg(writeVmg(randomFile([16, 16, 16], 600, 8)));
  const ac = new AbortController();
  ac.abort();
  assert.throws(() => new VmgDecoder(f, "wasm").decode(fullBox(f.header.shape), undefined, undefined, undefined, ac.signal), { name: "AbortError" });
});

test("a module built for another kernel layout is refused, saying so (the Node and browser adapters then stay on JS)", () => {
  // a module exporting memory and layout() = 1.0, as a build of some other kernel-layout.ts would
  const name = (t: string) => [t.length, ...new TextEncoder().encode(t)];
  const bytes = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0,
    1, 5, 1, 0x60, 0, 1, 0x7c, // type: () -> f64
    3, 2, 1, 0,
    5, 3, 1, 0, 1, // one page of memory
    7, 19, 2, ...name("layout"), 0, 0, ...name("memory"), 2, 0,
    10, 13, 1, 11, 0, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x0b, // f64.const 1.0
  ]);
  assert.throws(() => new WasmKernel(new WebAssembly.Module(bytes)), /the decode kernel was built for another memory layout \(1, not \d+\): rebuild it/);
});

test("rows entered at every x offset and cut to every length decode to the full decode's bits, wide supports and narrow, and stay within 1e-4 of the JS path", () => {
  // the walk evaluates each voxel on its own from its row: a row's value at x must not depend on
  // where the box enters the row, how many voxels share the last vector, or which lanes are masked
  const shape: [number, number, number] = [3, 7, 150];
  const file = rawVmgFile(shape, [
    { centre: [70.3, 3.4, 1.2], scale: [45, 1.5, 1.2], rotation: [0.95, 0.1, 0.2, 0.2], amplitude: 1.3 }, // rows of ~200 voxels, tilted
    { centre: [20.7, 3.1, 1.4], scale: [3.3, 2, 1], amplitude: -0.7 },
    { centre: [131.5, 2.2, 0.6], scale: [0.4, 3, 0.8], rotation: [0.8, 0.6, 0, 0], amplitude: 2 }, // rows of 1–3 voxels
    { centre: [-30, 4, 1], scale: [25, 2, 2], amplitude: 0.5 }, // support entering from outside the volume
  ], "f16");
  file.header.dtype = "float32";
  file.header.valueScale = 1;
  const f = readVmg(writeVmg(file));
  const [nz, ny, nx] = shape;
  const full = new VmgDecoder(f, "wasm").decodeField(fullBox(shape));
  const d = new VmgDecoder(f, "wasm");
  for (let x0 = 0; x0 < 12; x0++) for (const w of [1, 2, 3, 4, 5, 7, 8, 9, 63, 65, 138 - x0]) {
    const box = { z0: 0, z1: nz, y0: 0, y1: ny, x0, x1: x0 + w };
    const part = d.decodeField(box);
    let o = 0;
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = box.x0; x < box.x1; x++) {
      assert.equal(part[o++], full[(z * ny + y) * nx + x], `box x ${x0}:${x0 + w}, voxel ${z},${y},${x}`);
    }
  }
  const r = compare(f, fullBox(shape));
  assert.ok(r.field <= 1e-4 * peak(f), `field off by ${r.field}`);
});
