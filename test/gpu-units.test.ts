/** Node-side parts of src/gpu: struct layouts, the shader include, kernel packing, moment pieces. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { K_CX, KERNEL_STRIDE } from "../src/core/constants.js";
import { prepareKernels } from "../src/decode/kernels.js";
import { syntheticNeuron } from "../src/synthetic/neuron.js";
import { KERNEL_STRUCT, packKernels } from "../src/gpu/gpu-kernels.js";
import { momentPieces } from "../src/gpu/moment-pieces.js";
import { resolveIncludes } from "../src/gpu/wgsl-include.js";
import { WgslStruct } from "../src/gpu/wgsl-struct.js";

const SHADERS = join(import.meta.dirname, "../shaders");

test("struct layouts follow WGSL alignment: a scalar fills a vec3's fourth word, vec2 aligns to 8, size rounds to the widest member", () => {
  const s = new WgslStruct("P", [["a", "vec3<i32>"], ["n", "u32"], ["b", "vec2<f32>"], ["c", "vec3<u32>"], ["d", "f32"], ["e", "vec4<f32>"], ["f", "u32"]]);
  assert.deepEqual(Object.values(s.fields).map((f) => f.offset), [0, 12, 16, 32, 44, 48, 64]);
  assert.equal(s.size, 80);
  assert.equal(s.wgsl, "struct P {\n  a: vec3<i32>,\n  n: u32,\n  b: vec2<f32>,\n  c: vec3<u32>,\n  d: f32,\n  e: vec4<f32>,\n  f: u32,\n}\n");
  assert.equal(new WgslStruct("Q", [["x", "f32"], ["y", "vec2<u32>"]]).size, 16);
  assert.equal(new WgslStruct("R", [["x", "u32"]]).size, 4);
  const buf = s.pack({ a: [-1, 2, -3], n: 7, b: [0.5, 1.5], c: [4, 5, 6], d: -2.25, e: [1, 2, 3, 4], f: 0xffffffff });
  const i = new Int32Array(buf), u = new Uint32Array(buf), f = new Float32Array(buf);
  assert.deepEqual([...i.subarray(0, 3)], [-1, 2, -3]);
  assert.equal(u[3], 7);
  assert.deepEqual([f[4], f[5]], [0.5, 1.5]);
  assert.deepEqual([...u.subarray(8, 11)], [4, 5, 6]);
  assert.equal(f[11], -2.25);
  assert.deepEqual([...f.subarray(12, 16)], [1, 2, 3, 4]);
  assert.equal(u[16], 0xffffffff);
  assert.throws(() => s.set(s.alloc(1), 0, "a", 1, 2), /P\.a is vec3<i32>: 2 values given/);
});

test("#include puts the kernel chunk once into each shader; an unknown chunk is an error naming the shader", () => {
  const kernel = readFileSync(join(SHADERS, "kernel.wgsl"), "utf8");
  const users = readdirSync(SHADERS).filter((f) => f !== "kernel.wgsl" && f.endsWith(".wgsl"));
  assert.deepEqual(users.sort(), ["decode.wgsl", "moments.wgsl"]);
  for (const name of users) {
    const src = readFileSync(join(SHADERS, name), "utf8");
    assert.doesNotMatch(src, /fn kernel_(q|value|offset)\(|exp\(-0\.5/, `${name} evaluates the kernel itself instead of including kernel.wgsl`);
    const out = resolveIncludes(src, { "kernel.wgsl": kernel }, name);
    assert.doesNotMatch(out, /^\s*#include/m);
    assert.equal(out.split("fn kernel_q(").length, 2, `${name}: kernel_q not defined exactly once`);
  }
  assert.equal(resolveIncludes('#include "k"\n#include "k"\nx', { k: "K" }, "s"), "K\n\nx");
  assert.throws(() => resolveIncludes('  #include "nope.wgsl"', { "kernel.wgsl": kernel }, "decode.wgsl"), /^Error: decode\.wgsl: #include "nope\.wgsl": no such WGSL chunk/);
});

test("packed kernels split each centre into an integer voxel and a fraction in [0, 1) that add up to the float64 centre", () => {
  const f = syntheticNeuron({ shape: [20, 30, 200_000], gaussians: 300, seed: 4, perCurve: 5 });
  const k = prepareKernels(f.gaussians, f.header.shape, [1, 1, 1], 3);
  const packed = packKernels(k);
  const i32 = new Int32Array(packed.buffer), stride = KERNEL_STRUCT.size / 4;
  const ci = KERNEL_STRUCT.fields.centre.offset / 4, cf = KERNEL_STRUCT.fields.frac.offset / 4;
  let far = 0;
  for (let n = 0; n < k.count; n++) for (let a = 0; a < 3; a++) {
    const c = k.k[n * KERNEL_STRIDE + K_CX + a]!, whole = i32[n * stride + ci + a]!, frac = packed[n * stride + cf + a]!;
    assert.ok(frac >= 0 && frac < 1, `fraction ${frac}`);
    assert.ok(Math.abs(whole + frac - c) < 1e-6, `kernel ${n} axis ${a}: ${whole} + ${frac} != ${c}`);
    if (a === 0 && c > 100_000) far++;
  }
  assert.ok(far > 10, "no kernel far from the origin: a weak test");
  assert.equal(packKernels({ ...k, count: 0 }).byteLength, KERNEL_STRUCT.size, "an empty list still binds one record");
});

test("moment pieces cover each kernel's support inside the slab exactly once, at most pieceVoxels each", () => {
  const f = syntheticNeuron({ shape: [20, 30, 40], gaussians: 200, seed: 2 });
  const k = prepareKernels(f.gaussians, f.header.shape, [1, 1, 1], 3);
  const slab = { z0: 5, z1: 9, y0: 0, y1: 30, x0: 0, x1: 40 };
  for (const size of [1, 37, 4096]) {
    const p = momentPieces(k.box, k.count, slab, size);
    assert.equal(p.first[k.count], p.pieces);
    let missing = 0;
    for (let n = 0; n < k.count; n++) {
      const b = k.box.subarray(n * 6, n * 6 + 6);
      const ext = [[b[0]!, b[1]!, slab.x0, slab.x1], [b[2]!, b[3]!, slab.y0, slab.y1], [b[4]!, b[5]!, slab.z0, slab.z1]]
        .map(([lo, hi, s0, s1]) => Math.max(0, Math.min(hi! + 1, s1!) - Math.max(lo!, s0!)));
      const voxels = ext[0]! * ext[1]! * ext[2]!;
      if (voxels === 0) missing++;
      const starts: number[] = [];
      for (let q = p.first[n]!; q < p.first[n + 1]!; q++) { assert.equal(p.work[2 * q], n); starts.push(p.work[2 * q + 1]!); }
      // consecutive runs from 0 in steps of `size` that end at the last voxel
      assert.deepEqual(starts, Array.from({ length: Math.ceil(voxels / size) }, (_, j) => j * size));
    }
    assert.ok(missing > 0 && missing < k.count, "every kernel (or none) touches the slab: a weak test");
  }
  assert.throws(() => momentPieces(k.box, k.count, slab, 0), RangeError);
});
