/** Node-side parts of the viewer plugin: vmg:// URL parsing, the pyramid, the GPU brick index. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { prepareKernels } from "../src/decode/kernels.js";
import { SpatialIndex } from "../src/decode/spatial-index.js";
import { readVmg, writeVmg } from "../src/format/vmg.js";
import { syntheticNeuron } from "../src/synthetic/neuron.js";
import { buildBrickIndex } from "../src/gpu/brick-index.js";
import { pyramidLevels } from "../src/viewer/pyramid.js";
import { contrastWindow } from "../src/viewer/shader.js";
import { effectiveDecodeMode, parseVmgUrl, storeRedirect } from "../src/viewer/url.js";

const PAGE = "http://127.0.0.1:8080/app/index.html";

test("vmg:// of a *.zarr store redirects to zarr://, a .vmg file does not, and a #decode= option on a store is refused", () => {
  assert.equal(storeRedirect(parseVmgUrl("data/out.ome.zarr", PAGE)), "zarr://http://127.0.0.1:8080/app/data/out.ome.zarr");
  assert.equal(storeRedirect(parseVmgUrl("https://h.org/big.zarr/", PAGE)), "zarr://https://h.org/big.zarr/");
  assert.equal(storeRedirect(parseVmgUrl("https://h.org/a.vmg", PAGE)), undefined);
  assert.equal(storeRedirect(parseVmgUrl("https://h.org/a.zarr.vmg", PAGE)), undefined);
  assert.equal(storeRedirect(parseVmgUrl("data:application/octet-stream;base64,iVZNRw==", PAGE)), undefined);
  assert.throws(() => storeRedirect(parseVmgUrl("data/out.ome.zarr#decode=webgpu", PAGE)), /#decode=webgpu applies to \.vmg files/);
});

test("vmg:// accepts http(s), relative, data: and blob: URLs and a #decode= layer option", () => {
  assert.deepEqual(parseVmgUrl("https://h.org/a.vmg", PAGE), { url: "https://h.org/a.vmg", decode: undefined });
  assert.deepEqual(parseVmgUrl("data/a.vmg", PAGE), { url: "http://127.0.0.1:8080/app/data/a.vmg", decode: undefined });
  assert.deepEqual(parseVmgUrl("/d/a.vmg#decode=cpu", PAGE), { url: "http://127.0.0.1:8080/d/a.vmg", decode: "cpu" });
  assert.equal(parseVmgUrl("data:application/octet-stream;base64,iVZNRw==", PAGE).url, "data:application/octet-stream;base64,iVZNRw==");
  assert.equal(parseVmgUrl("blob:http://127.0.0.1:8080/4f2c", PAGE).url, "blob:http://127.0.0.1:8080/4f2c");
  assert.throws(() => parseVmgUrl("ftp://h.org/a.vmg", PAGE), /unsupported URL scheme "ftp:"/);
  assert.throws(() => parseVmgUrl("file:///etc/a.vmg", PAGE), /unsupported URL scheme "file:"/);
  assert.throws(() => parseVmgUrl("a.vmg#decode=gpu", PAGE), /unknown decode option "gpu"/);
  assert.throws(() => parseVmgUrl("", PAGE), /empty vmg:\/\/ URL/);
});

test("the page's ?vmgDecode= overrides the layer option", () => {
  assert.equal(effectiveDecodeMode("", undefined), "auto");
  assert.equal(effectiveDecodeMode("", "webgpu"), "webgpu");
  assert.equal(effectiveDecodeMode("?vmgDecode=cpu", "webgpu"), "cpu");
  assert.equal(effectiveDecodeMode("?vmgDecode=nonsense", "webgpu"), "webgpu");
});

test("the pyramid halves until one 64³ chunk covers the volume", () => {
  assert.deepEqual(pyramidLevels([51, 76, 176]).map((l) => l.shape), [[51, 76, 176], [26, 38, 88], [13, 19, 44]]);
  assert.deepEqual(pyramidLevels([10, 10, 10]).map((l) => l.level), [0]);
});

test("the default contrast window is the header's mapping of field 0..1, clamped to the dtype", () => {
  assert.deepEqual(contrastWindow({ dtype: "uint8", valueOffset: 100, valueScale: 200 }), [100, 255]);
  assert.deepEqual(contrastWindow({ dtype: "uint16", valueOffset: 1000, valueScale: -500 }), [500, 1000]);
});

test("every kernel the CPU index finds for a brick is in the GPU brick's list", () => {
  const f = readVmg(writeVmg(syntheticNeuron({ shape: [40, 70, 90], gaussians: 800, seed: 9 })));
  for (const level of [0, 1]) {
    const factors = [2 ** level, 2 ** level, 2 ** level] as const;
    const shape = [Math.ceil(40 / factors[0]), Math.ceil(70 / factors[0]), Math.ceil(90 / factors[0])] as const;
    const kernels = prepareKernels(f.gaussians, f.header.shape, factors, f.header.truncation);
    const cpu = new SpatialIndex(kernels, shape);
    for (const maxSpan of [512, 2]) { // 2: most kernels go to the global list
      const gpu = buildBrickIndex(kernels, shape, 8, maxSpan);
      const [bx, by, bz] = gpu.dims;
      for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++) {
        const b = (z * by + y) * bx + x;
        const listed = new Set([...gpu.items.subarray(0, gpu.globalCount), ...gpu.items.subarray(gpu.start[b], gpu.start[b + 1])]);
        const box = { x0: x * 8, x1: Math.min(shape[2], x * 8 + 8), y0: y * 8, y1: Math.min(shape[1], y * 8 + 8), z0: z * 8, z1: Math.min(shape[0], z * 8 + 8) };
        for (const i of cpu.query(box)) {
          const kb = kernels.box.subarray(i * 6, i * 6 + 6);
          const overlaps = kb[0]! < box.x1 && kb[1]! >= box.x0 && kb[2]! < box.y1 && kb[3]! >= box.y0 && kb[4]! < box.z1 && kb[5]! >= box.z0;
          if (overlaps) assert.ok(listed.has(i), `level ${level} brick ${x},${y},${z}: kernel ${i} missing`);
        }
      }
    }
  }
});

test("the GPU brick index of a huge declared grid coarsens its bricks and still lists every kernel", () => {
  const f = readVmg(writeVmg(syntheticNeuron({ shape: [40, 70, 90], gaussians: 200, seed: 3 })));
  // 2^31 − 1 voxels per axis (the format's limit): bounded bricks; 2^28 (kernel boxes exact in
  // int32, see kernels.ts): also every kernel listed where its support starts
  for (const n of [2 ** 31 - 1, 2 ** 28]) {
    const shape = [n, n, n] as const;
    const kernels = prepareKernels(f.gaussians, shape, [1, 1, 1], f.header.truncation);
    const gpu = buildBrickIndex(kernels, shape);
    const [bx, by, bz] = gpu.dims;
    assert.ok(gpu.brick > 8 && bx * by * bz <= Math.max(1 << 18, 64 * kernels.count), `${n}: brick ${gpu.brick}, ${bx}×${by}×${bz} bricks`);
    if (n > 2 ** 30) continue;
    for (let i = 0; i < kernels.count; i++) {
      if ([0, 2, 4].some((a) => kernels.box[i * 6 + a]! >= n || kernels.box[i * 6 + a + 1]! < 0)) continue; // outside the grid
      const [x, y, z] = [0, 2, 4].map((a) => Math.min(gpu.dims[a / 2]! - 1, Math.max(0, Math.floor(kernels.box[i * 6 + a]! / gpu.brick))));
      const b = (z! * by + y!) * bx + x!;
      const listed = [...gpu.items.subarray(0, gpu.globalCount), ...gpu.items.subarray(gpu.start[b], gpu.start[b + 1])];
      assert.ok(listed.includes(i), `kernel ${i} missing from brick ${x},${y},${z}`);
    }
  }
});
