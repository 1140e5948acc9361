/**
 * A `.vmg` layer and an OME-Zarr layer of the same volume line up: both put voxel k's centre at
 * origin + voxel size · k (docs/vmg-format.md; OME-Zarr's translation, as Neuroglancer reads it),
 * with an origin that is no whole number of voxels and voxels longer in z. Each layer, viewed
 * alone at the same navigation position (the centre of one voxel), shows the CPU decoder's slice
 * at the place that convention gives it. At 8 screen pixels per voxel, half a voxel is 4 pixels:
 * beyond the ±1-pixel search of compareSlice, so a layer half a voxel off fails.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { writeVmg } from "../../src/format/vmg.js";
import { fullBox, VmgDecoder } from "../../src/decode/decoder.js";
import { writeZarrV3 } from "../../src/io/zarr.js";
import { FileSystemStore } from "../../src/node/fs-store.js";
import { syntheticNeuron } from "../../src/synthetic/neuron.js";
import { defaultShader } from "../../src/viewer/shader.js";
import { compareSlice, cpuSlice, slicePosition } from "./compare.js";
import { openViewer, panelPixels, startEnv, type Env } from "./harness.js";

const PIXELS_PER_VOXEL = 8;
const Z = 5;
/** µm, z y x: no whole number of voxels on any axis. */
const ORIGIN: [number, number, number] = [3, -2.5, 4.25];
const VOXEL: [number, number, number] = [2, 1, 1];

let env: Env;
let dir: string;
let vmg: Uint8Array;
let shader: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "vmg-alignment-"));
  const file = syntheticNeuron({ shape: [10, 40, 48], gaussians: 300, dtype: "uint8", seed: 9, perCurve: 60 });
  Object.assign(file.header, { origin: ORIGIN, voxelSize: VOXEL, unit: "micrometer" });
  vmg = writeVmg(file);
  shader = defaultShader(file.header);
  writeFileSync(join(dir, "v.vmg"), vmg);
  const h = file.header;
  await writeZarrV3(new FileSystemStore(join(dir, "v.ome.zarr")), {
    shape: h.shape, dtype: h.dtype, data: new VmgDecoder(file).decode(fullBox(h.shape)), voxelSize: VOXEL, unit: "micrometer", origin: ORIGIN,
  }, { chunks: [8, 16, 16], name: "v" });
  env = await startEnv(dir);
});
after(async () => { await env?.close(); rmSync(dir, { recursive: true, force: true }); });

/** One layer alone, the panel centred on compareSlice's (cx, cy) of slice Z in the layer's voxels. */
function state(source: string, cx: number, cy: number) {
  const [sz, sy, sx] = VOXEL;
  const [oz, oy, ox] = ORIGIN;
  const [x, y, z] = slicePosition(cx, cy, Z);
  return {
    dimensions: { x: [sx * 1e-6, "m"], y: [sy * 1e-6, "m"], z: [sz * 1e-6, "m"] },
    // global coordinates are physical / voxel size: voxel k's centre at origin / voxel size + k
    position: [ox / sx + x, oy / sy + y, oz / sz + z],
    crossSectionScale: 1 / PIXELS_PER_VOXEL,
    layout: "xy", showAxisLines: false, showScaleBar: false, showDefaultAnnotations: false,
    layers: [{ type: "image", name: "v", source, opacity: 1, shader }],
  };
}

for (const [name, source] of [[".vmg", "vmg://data/v.vmg"], ["OME-Zarr", () => `zarr://${env.server.url}data/v.ome.zarr/`]] as const) {
  test(`a ${name} layer puts voxel k's centre at origin + voxel size · k`, async () => {
    const exp = cpuSlice(vmg, Z);
    const [cx, cy] = [20, 18];
    const { page, errors } = await openViewer(env, state(typeof source === "string" ? source : source(), cx, cy), "?vmgDecode=cpu");
    try {
      const cmp = compareSlice(await panelPixels(page), exp.at, exp.nx, exp.ny, cx, cy, PIXELS_PER_VOXEL, 2);
      assert.ok(cmp.compared > 40_000, `compared only ${cmp.compared} pixels`);
      assert.ok(cmp.agree >= 0.99, `only ${(cmp.agree * 100).toFixed(2)}% of pixels within 2 grey levels (mean |diff| ${cmp.meanAbs.toFixed(2)}, best shift ${cmp.shift})`);
      // control: the same comparison half a voxel off along x fails, so the test can tell
      const off = compareSlice(await panelPixels(page), exp.at, exp.nx, exp.ny, cx + 0.5, cy, PIXELS_PER_VOXEL, 2);
      assert.ok(off.agree < 0.95, `half a voxel off matches as well (${off.agree}): a weak test`);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
}
