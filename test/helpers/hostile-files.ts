/**
 * Well-formed but hostile `.vmg` files: the worst cases a reader must reject or a decoder must
 * bound (huge scales, maximal counts for the length, degenerate rotations, extreme amplitudes,
 * centres far outside the volume, the largest volume shape). Built with `serializeVmg`, which
 * checks nothing, so they carry exactly what a hand-crafted file could.
 */
import { constantBackground } from "../../src/core/background.js";
import { PARAMS_PER_GAUSSIAN } from "../../src/core/constants.js";
import { toNormalized, type Shape3 } from "../../src/core/gaussian.js";
import { encodingByName, type EncodingName } from "../../src/format/encodings.js";
import { choosePackedSteps, encodePacked, maxPackedCount, PACKED_HEADER_BYTES } from "../../src/format/packed.js";
import { defaultHeader, serializeVmg, type VmgFile } from "../../src/format/vmg.js";

/** One Gaussian: voxel centre (x, y, z), standard deviations (x, y, z), quaternion (w, x, y, z), amplitude. */
export interface RawGaussian {
  centre: [number, number, number];
  scale: [number, number, number];
  rotation?: [number, number, number, number];
  amplitude?: number;
}

export interface HostileFile {
  name: string;
  bytes: Uint8Array;
}

/** Container, background and sections of a hostile file (the fixed 128 bytes around its payload). */
export const CONTAINER_BYTES = 120 + 4 + 4;

/** A file of `gaussians` over `shape`, in memory, unchecked. */
export function rawVmgFile(shape: Shape3, gaussians: RawGaussian[], encoding: EncodingName): VmgFile {
  const [nz, ny, nx] = shape;
  const params = new Float32Array(gaussians.length * PARAMS_PER_GAUSSIAN);
  gaussians.forEach((g, i) => params.set([
    toNormalized(g.centre[0], nx), toNormalized(g.centre[1], ny), toNormalized(g.centre[2], nz),
    ...g.scale, ...(g.rotation ?? [1, 0, 0, 0]), g.amplitude ?? 1,
  ], i * PARAMS_PER_GAUSSIAN));
  const header = { ...defaultHeader(shape, "uint16"), encoding, valueScale: 1000 };
  return { header, background: constantBackground(0), gaussians: params, count: gaussians.length, sections: [] };
}

/** Serialise `gaussians` unchecked; a packed payload is padded with zeros to `packedBytes` when given. */
export function rawFile(shape: Shape3, gaussians: RawGaussian[], encoding: EncodingName, packedBytes?: number): Uint8Array {
  const file = rawVmgFile(shape, gaussians, encoding);
  const params = file.gaussians;
  let payload = encoding === "packed"
    ? encodePacked(params, file.count, choosePackedSteps(params, file.count, shape))
    : encodingByName(encoding).encode({ gaussians: params, count: file.count, shape });
  if (packedBytes !== undefined && packedBytes > payload.length) {
    const padded = new Uint8Array(packedBytes);
    padded.set(payload);
    payload = padded;
  }
  return serializeVmg(file, payload);
}

/** `count` copies of one Gaussian of standard deviation `sigma` centred in the 64³ chunk at the origin. */
function covering(count: number, sigma: number, amplitude = 1): RawGaussian[] {
  return Array.from({ length: count }, () => ({ centre: [32, 32, 32], scale: [sigma, sigma, sigma], amplitude }));
}

/** The file: 20 float16 Gaussians of σ = 60,000 voxels in a 64³ volume, 568 bytes. */
export const HUGE_SCALE: [Shape3, RawGaussian[]] = [[64, 64, 64], covering(20, 60_000)];
export function hugeScaleFile(): Uint8Array {
  return rawFile(...HUGE_SCALE, "f16");
}

/**
 * The most Gaussians a file of at most `maxBytes` may declare, each covering the whole 64³ chunk at
 * the origin of a 64³ volume: float16 records fill the bytes, packed copies of one Gaussian code
 * to almost nothing and are padded to the smallest payload the count bound admits.
 */
export function maxCountFile(encoding: EncodingName, maxBytes = 2048): Uint8Array {
  const payload = maxBytes - CONTAINER_BYTES;
  if (encoding === "f16") return rawFile([64, 64, 64], covering(Math.floor(payload / 22), 30), "f16");
  const count = maxPackedCount(payload);
  return rawFile([64, 64, 64], covering(count, 30), "packed", PACKED_HEADER_BYTES + 2 * count);
}

/** Crafted worst cases in one encoding; each must be rejected with a typed error or decode in bounded time. */
export function hostileFiles(encoding: EncodingName): HostileFile[] {
  const cube: Shape3 = [64, 64, 64];
  const diag = Math.hypot(64, 64, 64);
  const max = 2 ** 31 - 1;
  const maxShape: Shape3 = [max, max, max];
  const f = (name: string, shape: Shape3, gs: RawGaussian[]) => ({ name: `${encoding} ${name}`, bytes: rawFile(shape, gs, encoding) });
  return [
    f("sigma 60000", cube, covering(20, 60_000)),
    f("sigma at the diagonal", cube, covering(20, diag * 0.99)),
    f("sigma 2^100", cube, covering(3, 2 ** 100)),
    { name: `${encoding} maximal count for 2 KB`, bytes: maxCountFile(encoding) },
    f("quaternion at the minimum norm", cube, [{ centre: [10, 20, 30], scale: [3, 5, 7], rotation: [0.0006, 0.0006, 0.0005, 0.0004] }]),
    f("quaternion below the minimum norm", cube, [{ centre: [10, 20, 30], scale: [3, 5, 7], rotation: [0.0004, 0, 0, 0.0003] }]),
    f("near-singular covariance", cube, [
      { centre: [32, 32, 32], scale: [0.001, diag * 0.99, diag * 0.99], rotation: [0.9, 0.3, -0.2, 0.1] },
      { centre: [5, 60, 33], scale: [diag * 0.99, 0.0011, 0.0012], rotation: [0.5, 0.5, 0.5, 0.5] },
    ]),
    f("amplitude at the bound", cube, covering(20, 10, 65504).concat(covering(20, 10, -65504))),
    f("amplitude past the bound", cube, covering(1, 10, 2 ** 40)),
    f("centres far outside", cube, [
      { centre: [-1e6, 32, 32], scale: [60, 60, 60] }, { centre: [32, 1e6, 32], scale: [100, 100, 100] },
      { centre: [32, 32, -2e6], scale: [100, 100, 100] }, { centre: [-1e6, 1e6, 1e6], scale: [1, 1, 1] },
    ]),
    f("largest volume shape", maxShape, [
      { centre: [0, 0, 0], scale: [60_000, 50, 50], rotation: [0.8, 0.2, 0.4, 0.4] },
      { centre: [max - 1, max / 2, 3], scale: [60_000, 60_000, 60_000] },
      { centre: [2 ** 30, 2 ** 30, 2 ** 30], scale: [4, 4, 4] },
    ]),
    f("largest volume shape, sigma at its diagonal", maxShape, [
      { centre: [2 ** 30, 2 ** 30, 2 ** 30], scale: [Math.hypot(max, max, max) * 0.99, 1e9, 3], rotation: [0.8, 0.2, 0.4, 0.4] },
    ]),
  ];
}
