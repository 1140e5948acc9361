/**
 * Adam with a learning rate per parameter column (position, log-scale, rotation, amplitude) and a
 * step counter per Gaussian, so Gaussians born by density control get proper bias correction.
 */
import { OPT_STRIDE } from "./params.js";

const B1 = 0.9, B2 = 0.999;
// The loss is a mean over millions of voxels, so raw gradients are tiny; a fixed epsilon like 1e-8
// would swamp them. 1e-30 only guards the division.
const EPS = 1e-30;

export class GaussianAdam {
  m: Float64Array;
  v: Float64Array;
  t: Int32Array;

  constructor(count: number) {
    this.m = new Float64Array(count * OPT_STRIDE);
    this.v = new Float64Array(count * OPT_STRIDE);
    this.t = new Int32Array(count);
  }

  /** Update `opt` in place; `lr[j]` is the rate of column j; only `active` Gaussians when given. */
  step(opt: Float64Array, grad: Float64Array, count: number, lr: ArrayLike<number>, active?: Uint8Array): void {
    const { m, v, t } = this;
    for (let i = 0; i < count; i++) {
      if (active && !active[i]) continue;
      const ti = ++t[i]!;
      const c1 = 1 - B1 ** ti, c2 = 1 - B2 ** ti;
      for (let j = 0; j < OPT_STRIDE; j++) {
        const a = i * OPT_STRIDE + j;
        const g = grad[a]!;
        const mi = (m[a] = B1 * m[a]! + (1 - B1) * g);
        const vi = (v[a] = B2 * v[a]! + (1 - B2) * g * g);
        opt[a] = opt[a]! - (lr[j]! * (mi / c1)) / (Math.sqrt(vi / c2) + EPS);
      }
    }
  }

  /** Keep the state of Gaussians `keep` (old indices, in order) and append `added` fresh ones. */
  remap(keep: ArrayLike<number>, added: number): void {
    const n = keep.length + added;
    const m = new Float64Array(n * OPT_STRIDE), v = new Float64Array(n * OPT_STRIDE), t = new Int32Array(n);
    for (let i = 0; i < keep.length; i++) {
      const src = keep[i]!;
      m.set(this.m.subarray(src * OPT_STRIDE, (src + 1) * OPT_STRIDE), i * OPT_STRIDE);
      v.set(this.v.subarray(src * OPT_STRIDE, (src + 1) * OPT_STRIDE), i * OPT_STRIDE);
      t[i] = this.t[src]!;
    }
    this.m = m; this.v = v; this.t = t;
  }
}

/** Plain Adam for a small dense vector (background parameters). */
export class VectorAdam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  constructor(n: number) {
    this.m = new Float64Array(n);
    this.v = new Float64Array(n);
  }
  step(x: Float64Array, g: Float64Array, lr: number): void {
    this.t++;
    const c1 = 1 - B1 ** this.t, c2 = 1 - B2 ** this.t;
    for (let i = 0; i < x.length; i++) {
      this.m[i] = B1 * this.m[i]! + (1 - B1) * g[i]!;
      this.v[i] = B2 * this.v[i]! + (1 - B2) * g[i]! * g[i]!;
      x[i] = x[i]! - (lr * (this.m[i]! / c1)) / (Math.sqrt(this.v[i]! / c2) + EPS);
    }
  }
}
