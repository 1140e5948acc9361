/**
 * Initial Gaussians.
 *  - pursuit (default): greedy matching pursuit on the lightly smoothed, background-subtracted
 *    volume. Take the largest residual voxel, fit a Gaussian to the blob around it from its
 *    half-maximum second moments, subtract it, repeat. Tiles keep their maxima in a lazy max-heap
 *    (subtraction only lowers values, so stale keys are upper bounds).
 *  - knn (the paper's recipe): seeds drawn from gated voxels with probability ∝ intensity, isotropic
 *    scale = mean distance to the k = 32 nearest gated voxels.
 * Both return optimiser parameters (params.ts).
 */
import { P_AMP, P_POS, P_ROT, P_SCALE, PARAMS_PER_GAUSSIAN, KERNEL_STRIDE } from "../core/constants.js";
import { prepareKernel, toNormalized, type Shape3 } from "../core/gaussian.js";
import { Random } from "../core/random.js";
import { splatKernel } from "../decode/splat.js";
import { rotationToQuaternion, symmetricEigen3 } from "./linalg.js";
import { O_AMP, O_LOGS, O_POS, O_ROT, OPT_STRIDE } from "./params.js";

export const MIN_SEED_SCALE = 0.5;
export const MAX_SEED_SCALE = 12;

/** Separable [1 2 1]/4 smoothing along x, y and z (in place on a copy). */
export function smooth121(src: Float32Array, shape: Shape3): Float32Array {
  const [nz, ny, nx] = shape;
  let a = Float32Array.from(src);
  let b = new Float32Array(src.length);
  const strides = [1, nx, nx * ny];
  const sizes = [nx, ny, nz];
  for (let axis = 0; axis < 3; axis++) {
    const s = strides[axis]!, n = sizes[axis]!;
    if (n < 3) continue;
    // voxel i = base + c·s + j with c its coordinate along the axis; the ends are clamped to themselves
    for (let base = 0; base < a.length; base += s * n) for (let c = 0; c < n; c++) {
      const row = base + c * s, lo = c > 0 ? row - s : row, hi = c < n - 1 ? row + s : row;
      for (let j = 0; j < s; j++) b[row + j] = 0.25 * a[lo + j]! + 0.5 * a[row + j]! + 0.25 * a[hi + j]!;
    }
    [a, b] = [b, a];
  }
  return a;
}

/** σ² per unit of half-maximum second moment, for a sampled 3D Gaussian (computed once by quadrature). */
const HALF_MAX_MOMENT_FACTOR = (() => {
  const r0 = Math.sqrt(2 * Math.log(2));
  let m2 = 0, m0 = 0;
  for (let i = 0; i < 4000; i++) {
    const r = ((i + 0.5) / 4000) * r0;
    const w = Math.exp(-0.5 * r * r) - 0.5;
    m2 += w * r ** 4;
    m0 += w * r * r;
  }
  return m2 / (3 * m0); // mean of x² under the weight, for σ = 1
})();

class TileHeap {
  private keys: number[] = [];
  private ids: number[] = [];
  push(id: number, key: number): void {
    const k = this.keys, d = this.ids;
    let i = k.length;
    k.push(key); d.push(id);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p]! >= key) break;
      k[i] = k[p]!; d[i] = d[p]!; i = p;
    }
    k[i] = key; d[i] = id;
  }
  peekKey(): number {
    return this.keys.length ? this.keys[0]! : -Infinity;
  }
  pop(): number | undefined {
    const k = this.keys, d = this.ids;
    if (!k.length) return undefined;
    const top = d[0]!;
    const lastK = k.pop()!, lastD = d.pop()!;
    if (k.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i, mk = lastK;
        if (l < k.length && k[l]! > mk) { m = l; mk = k[l]!; }
        if (r < k.length && k[r]! > mk) { m = r; mk = k[r]!; }
        if (m === i) break;
        k[i] = k[m]!; d[i] = d[m]!; i = m;
      }
      k[i] = lastK; d[i] = lastD;
    }
    return top;
  }
}

export interface PursuitOptions {
  count: number;
  /** Stop when the largest residual falls below this (field units). */
  minAmplitude: number;
  smooth?: boolean;
}

/** Greedy matching pursuit; `residual` (full volume, field units, background removed) is consumed. */
export function pursuitSeeds(residualIn: Float32Array, shape: Shape3, o: PursuitOptions): Float64Array {
  const [nz, ny, nx] = shape;
  const R = o.smooth === false ? residualIn : smooth121(residualIn, shape);
  const T = 8;
  const tdims = [Math.ceil(nx / T), Math.ceil(ny / T), Math.ceil(nz / T)] as const;
  const heap = new TileHeap();
  const tileMax = (t: number): [number, number] => {
    const tx = t % tdims[0], ty = Math.floor(t / tdims[0]) % tdims[1], tz = Math.floor(t / (tdims[0] * tdims[1]));
    let best = -Infinity, at = -1;
    for (let z = tz * T; z < Math.min(nz, tz * T + T); z++) for (let y = ty * T; y < Math.min(ny, ty * T + T); y++) {
      let i = (z * ny + y) * nx + tx * T;
      for (let x = tx * T; x < Math.min(nx, tx * T + T); x++, i++) if (R[i]! > best) { best = R[i]!; at = i; }
    }
    return [best, at];
  };
  for (let t = 0; t < tdims[0] * tdims[1] * tdims[2]; t++) heap.push(t, tileMax(t)[0]);
  const out = new Float64Array(o.count * OPT_STRIDE);
  const one = new Float32Array(PARAMS_PER_GAUSSIAN);
  const kernel = new Float64Array(KERNEL_STRIDE);
  const full = { z0: 0, z1: nz, y0: 0, y1: ny, x0: 0, x1: nx };
  let n = 0;
  while (n < o.count) {
    const t = heap.pop();
    if (t === undefined) break;
    const [peak, at] = tileMax(t);
    if (peak < heap.peekKey()) { heap.push(t, peak); continue; } // stale: another tile is higher
    if (!(peak > o.minAmplitude)) break;
    const px = at % nx, py = Math.floor(at / nx) % ny, pz = Math.floor(at / (nx * ny));
    // half-maximum second moments in a 9³ window
    const half = peak / 2;
    let m0 = 0, mx = 0, my = 0, mz = 0, mxx = 0, mxy = 0, mxz = 0, myy = 0, myz = 0, mzz = 0;
    const W = 4;
    for (let z = Math.max(0, pz - W); z <= Math.min(nz - 1, pz + W); z++) for (let y = Math.max(0, py - W); y <= Math.min(ny - 1, py + W); y++) {
      for (let x = Math.max(0, px - W); x <= Math.min(nx - 1, px + W); x++) {
        const w = R[(z * ny + y) * nx + x]! - half;
        if (w <= 0) continue;
        const dx = x - px, dy = y - py, dz = z - pz;
        m0 += w; mx += w * dx; my += w * dy; mz += w * dz;
        mxx += w * dx * dx; mxy += w * dx * dy; mxz += w * dx * dz; myy += w * dy * dy; myz += w * dy * dz; mzz += w * dz * dz;
      }
    }
    const cx = mx / m0, cy = my / m0, cz = mz / m0;
    const f = 1 / (m0 * HALF_MAX_MOMENT_FACTOR);
    // a one-voxel blob has zero moments: + 1/12 per axis (the voxel's own extent) keeps it well posed
    const cov = [
      (mxx - m0 * cx * cx) * f + 1 / 12, (mxy - m0 * cx * cy) * f, (mxz - m0 * cx * cz) * f,
      (mxy - m0 * cx * cy) * f, (myy - m0 * cy * cy) * f + 1 / 12, (myz - m0 * cy * cz) * f,
      (mxz - m0 * cx * cz) * f, (myz - m0 * cy * cz) * f, (mzz - m0 * cz * cz) * f + 1 / 12,
    ];
    const { values, vectors } = symmetricEigen3(cov);
    const q = rotationToQuaternion(vectors);
    const scales = values.map((v) => Math.min(MAX_SEED_SCALE, Math.max(MIN_SEED_SCALE, Math.sqrt(Math.max(v, 0)))));
    const gx = px + cx, gy = py + cy, gz = pz + cz;
    const b = n * OPT_STRIDE;
    out.set([gx, gy, gz], b + O_POS);
    out.set(scales.map(Math.log), b + O_LOGS);
    out.set(q, b + O_ROT);
    out[b + O_AMP] = peak;
    // subtract it, exactly as the decoder would draw it
    one[P_POS] = toNormalized(gx, nx); one[P_POS + 1] = toNormalized(gy, ny); one[P_POS + 2] = toNormalized(gz, nz);
    one.set(scales, P_SCALE);
    one.set(q, P_ROT);
    one[P_AMP] = -peak;
    prepareKernel(one, 0, shape, [1, 1, 1], 3, kernel, 0);
    splatKernel(kernel, 0, full, R);
    heap.push(t, tileMax(t)[0]);
    n++;
  }
  return out.subarray(0, n * OPT_STRIDE);
}

export interface KnnOptions {
  count: number;
  k?: number;
  seed: number;
}

/** The paper's seeding: gated voxels, probability ∝ intensity, scale from k-nearest-neighbour distances. */
export function knnSeeds(target: Float32Array, background: Float32Array, gate: Uint8Array, shape: Shape3, o: KnnOptions): Float64Array {
  const [nz, ny, nx] = shape;
  const k = o.k ?? 32;
  const rng = new Random(o.seed);
  const gated: number[] = [];
  let total = 0;
  const cdf: number[] = [];
  for (let i = 0; i < gate.length; i++) {
    if (!gate[i]) continue;
    gated.push(i);
    total += Math.max(1e-6, target[i]! - background[i]!);
    cdf.push(total);
  }
  if (!gated.length) return new Float64Array(0);
  const out = new Float64Array(o.count * OPT_STRIDE);
  const dists: number[] = [];
  for (let n = 0; n < o.count; n++) {
    const u = rng.next() * total;
    let lo = 0, hi = cdf.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid]! < u) lo = mid + 1; else hi = mid; }
    const i = gated[lo]!;
    const x = i % nx, y = Math.floor(i / nx) % ny, z = Math.floor(i / (nx * ny));
    // grow a cube until it holds k gated neighbours, then take the k nearest
    dists.length = 0;
    for (let r = 1; r <= 16 && dists.length < k; r++) {
      dists.length = 0;
      for (let zz = Math.max(0, z - r); zz <= Math.min(nz - 1, z + r); zz++) for (let yy = Math.max(0, y - r); yy <= Math.min(ny - 1, y + r); yy++) {
        for (let xx = Math.max(0, x - r); xx <= Math.min(nx - 1, x + r); xx++) {
          if ((xx !== x || yy !== y || zz !== z) && gate[(zz * ny + yy) * nx + xx]) dists.push(Math.hypot(xx - x, yy - y, zz - z));
        }
      }
    }
    dists.sort((a, b) => a - b);
    const kk = Math.min(k, dists.length);
    const mean = kk ? dists.slice(0, kk).reduce((s, d) => s + d, 0) / kk : 1;
    const s = Math.log(Math.min(MAX_SEED_SCALE, Math.max(MIN_SEED_SCALE, mean)));
    out.set([x + rng.uniform(-0.5, 0.5), y + rng.uniform(-0.5, 0.5), z + rng.uniform(-0.5, 0.5), s, s, s, 1, 0, 0, 0, target[i]! - background[i]!], n * OPT_STRIDE);
  }
  return out;
}
