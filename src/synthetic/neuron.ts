/**
 * Deterministic synthetic "fitted neuron": tubes of small, elongated Gaussians along smooth random
 * 3D curves, oriented along the curve, as a fitter produces on neurites. Used by tests and the
 * decode benchmark.
 */
import { constantBackground } from "../core/background.js";
import { PARAMS_PER_GAUSSIAN } from "../core/constants.js";
import type { DType } from "../core/dtype.js";
import { toNormalized, type Shape3 } from "../core/gaussian.js";
import { Random } from "../core/random.js";
import { defaultHeader, type VmgFile } from "../format/vmg.js";

export interface NeuronOptions {
  shape: Shape3;
  gaussians: number;
  seed?: number;
  dtype?: DType;
  /** Gaussians per curve (default 300). */
  perCurve?: number;
}

/** Quaternion (w, x, y, z) rotating the local x axis onto unit vector (tx, ty, tz). */
function alignX(tx: number, ty: number, tz: number): [number, number, number, number] {
  // half-way vector between (1,0,0) and t
  let hx = 1 + tx, hy = ty, hz = tz;
  const n = Math.hypot(hx, hy, hz);
  if (n < 1e-9) return [0, 0, 1, 0]; // t = -x: rotate 180° about y
  hx /= n; hy /= n; hz /= n;
  // q = (dot(x,h), cross(x,h))
  return [hx, 0, -hz, hy];
}

export function syntheticNeuron(o: NeuronOptions): VmgFile {
  const rng = new Random(o.seed ?? 1);
  const [nz, ny, nx] = o.shape;
  const perCurve = o.perCurve ?? 300;
  const params = new Float32Array(o.gaussians * PARAMS_PER_GAUSSIAN);
  let px = 0, py = 0, pz = 0, dx = 1, dy = 0, dz = 0, left = 0;
  for (let i = 0; i < o.gaussians; i++) {
    if (left === 0) {
      px = rng.uniform(0, nx); py = rng.uniform(0, ny); pz = rng.uniform(0, nz);
      [dx, dy, dz] = [rng.normal(), rng.normal(), rng.normal() * 0.3];
      left = perCurve;
    }
    // smooth direction change, stay inside the volume
    dx += 0.25 * rng.normal(); dy += 0.25 * rng.normal(); dz += 0.08 * rng.normal();
    if (px < 0 || px >= nx) dx = -Math.sign(px - nx / 2) * Math.abs(dx);
    if (py < 0 || py >= ny) dy = -Math.sign(py - ny / 2) * Math.abs(dy);
    if (pz < 0 || pz >= nz) dz = -Math.sign(pz - nz / 2) * Math.abs(dz);
    const n = Math.hypot(dx, dy, dz);
    dx /= n; dy /= n; dz /= n;
    const along = rng.uniform(1.5, 3.5);
    px += dx * along * 1.2; py += dy * along * 1.2; pz += dz * along * 1.2;
    const [qw, qx, qy, qz] = alignX(dx, dy, dz);
    const b = i * PARAMS_PER_GAUSSIAN;
    params.set([
      toNormalized(px, nx), toNormalized(py, ny), toNormalized(pz, nz),
      along, rng.uniform(0.7, 1.6), rng.uniform(0.7, 1.6),
      qw, qx, qy, qz,
      rng.uniform(0.15, 1),
    ], b);
    left--;
  }
  const dtype = o.dtype ?? "uint16";
  const header = defaultHeader(o.shape, dtype);
  header.voxelSize = [1, 0.3, 0.3];
  header.unit = "um";
  header.valueOffset = 100;
  header.valueScale = dtype === "uint8" ? 200 : 4000;
  return { header, background: constantBackground(0.05), gaussians: params, count: o.gaussians, sections: [] };
}
