/** Volumes for fitter tests: decoded from known Gaussians, so the ideal fit is known. */
import { constantBackground } from "../../src/core/background.js";
import { PARAMS_PER_GAUSSIAN } from "../../src/core/constants.js";
import { toNormalized, type Shape3 } from "../../src/core/gaussian.js";
import { Random } from "../../src/core/random.js";
import type { Volume } from "../../src/core/volume.js";
import { fullBox, VmgDecoder } from "../../src/decode/decoder.js";
import { defaultHeader, readVmg, writeVmg, type VmgFile } from "../../src/format/vmg.js";

/** `count` well-separated anisotropic Gaussians (σ 1.2–3 voxels) over a constant floor, as uint16. */
export function knownGaussians(shape: Shape3, count: number, seed = 5): { file: VmgFile; volume: Volume } {
  const rng = new Random(seed);
  const [nz, ny, nx] = shape;
  const g = new Float32Array(count * PARAMS_PER_GAUSSIAN);
  for (let i = 0; i < count; i++) {
    g.set([
      toNormalized(rng.uniform(4, nx - 5), nx), toNormalized(rng.uniform(4, ny - 5), ny), toNormalized(rng.uniform(4, nz - 5), nz),
      rng.uniform(1.2, 3), rng.uniform(1.2, 3), rng.uniform(1.2, 3),
      rng.normal(), rng.normal(), rng.normal(), rng.normal(),
      rng.uniform(0.4, 1),
    ], i * PARAMS_PER_GAUSSIAN);
  }
  const header = defaultHeader(shape, "uint16");
  header.valueOffset = 200;
  header.valueScale = 20000;
  const file = readVmg(writeVmg({ header, background: constantBackground(0.02), gaussians: g, count, sections: [] }));
  const data = new VmgDecoder(file).decode(fullBox(shape));
  return { file, volume: { shape, dtype: "uint16", data } };
}
