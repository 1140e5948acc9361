/** Small valid `.vmg` files for tests. */
import { constantBackground, type BackgroundModel } from "../../src/core/background.js";
import { PARAMS_PER_GAUSSIAN } from "../../src/core/constants.js";
import type { DType } from "../../src/core/dtype.js";
import type { Shape3 } from "../../src/core/gaussian.js";
import { Random } from "../../src/core/random.js";
import { crc32 } from "../../src/format/crc32.js";
import { defaultHeader, type VmgFile } from "../../src/format/vmg.js";

/** `count` random anisotropic, arbitrarily rotated Gaussians inside `shape`. */
export function randomFile(shape: Shape3, count: number, seed = 7, opts: { dtype?: DType; background?: BackgroundModel; maxScale?: number } = {}): VmgFile {
  const rng = new Random(seed);
  const g = new Float32Array(count * PARAMS_PER_GAUSSIAN);
  const maxScale = opts.maxScale ?? 4;
  for (let i = 0; i < count; i++) {
    g.set([
      rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1),
      rng.uniform(0.6, maxScale), rng.uniform(0.6, maxScale), rng.uniform(0.6, maxScale),
      rng.normal(), rng.normal(), rng.normal(), rng.normal(),
      rng.uniform(-0.3, 1),
    ], i * PARAMS_PER_GAUSSIAN);
  }
  const header = defaultHeader(shape, opts.dtype ?? "uint16");
  header.voxelSize = [2, 0.5, 0.5];
  header.unit = "um";
  header.valueOffset = 10;
  header.valueScale = 1000;
  return { header, background: opts.background ?? constantBackground(0.1), gaussians: g, count, sections: [] };
}

/** Recompute the trailing CRC-32 after a test edits a file's bytes in place. */
export function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 4, crc32(bytes, 0, bytes.length - 4), true);
  return bytes;
}
