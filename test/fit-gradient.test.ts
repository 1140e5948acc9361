import assert from "node:assert/strict";
import { test } from "node:test";
import { polynomialTerms, type BackgroundModel } from "../src/core/background.js";
import { KERNEL_STRIDE } from "../src/core/constants.js";
import { Random } from "../src/core/random.js";
import { prepareKernels } from "../src/decode/kernels.js";
import { chainGradient } from "../src/fit/chain.js";
import { LocalEngine } from "../src/fit/engine.js";
import { MOMENT_STRIDE } from "../src/fit/gradient.js";
import { OPT_STRIDE, toFileParams } from "../src/fit/params.js";

const shape = [12, 14, 16] as const;
const N = shape[0] * shape[1] * shape[2];
// The kernel has a kink (not a jump) at the cutoff; voxels crossing it within ±h add O(h) error to
// finite differences. At 4 sigma that kink is 20× smaller than at 3, so the check can be tight.
const RADIUS = 4;

function setup(bg: BackgroundModel) {
  const rng = new Random(3);
  const count = 4;
  const opt = new Float64Array(count * OPT_STRIDE);
  for (let i = 0; i < count; i++) {
    opt.set([rng.uniform(4, 11), rng.uniform(4, 9), rng.uniform(3, 8),
      Math.log(rng.uniform(1.2, 2.5)), Math.log(rng.uniform(1.2, 2.5)), Math.log(rng.uniform(1.2, 2.5)),
      rng.normal(), rng.normal(), rng.normal(), rng.normal(), rng.uniform(0.3, 1)], i * OPT_STRIDE);
  }
  const data = Float32Array.from({ length: N }, () => rng.uniform(0, 1));
  const edges = Uint8Array.from({ length: N }, () => (rng.next() < 0.2 ? 1 : 0));
  const engine = new LocalEngine({ shape, data, edges, edgeBoost: 3 });
  const params = new Float32Array(count * 11);
  const loss = async (o: Float64Array, b: BackgroundModel) => {
    toFileParams(o, count, shape, params);
    return (await engine.evaluate({ params, count, background: b, radius: RADIUS, gradients: false })).wsse / N;
  };
  return { count, opt, engine, params, loss, bg };
}

for (const bg of [
  { kind: "constant", params: Float64Array.of(0.2) } as BackgroundModel,
  { kind: "polynomial", degree: 2, params: Float64Array.from(polynomialTerms(2), (_, i) => 0.1 / (i + 1)) } as BackgroundModel,
  { kind: "grid", dims: [2, 3, 3], params: Float64Array.from({ length: 18 }, (_, i) => (i % 5) / 10) } as BackgroundModel,
]) {
  test(`analytic gradients match finite differences (${bg.kind} background)`, async () => {
    const { count, opt, engine, params, loss } = setup(bg);
    toFileParams(opt, count, shape, params);
    const r = await engine.evaluate({ params, count, background: bg, radius: RADIUS, gradients: true });
    const kernels = prepareKernels(params, shape, [1, 1, 1], RADIUS);
    const grad = new Float64Array(opt.length);
    const scaled = r.moments!.map((m) => (2 / N) * m);
    for (let kid = 0; kid < kernels.count; kid++) {
      const i = kernels.source[kid]!;
      chainGradient(scaled, i * MOMENT_STRIDE, kernels.k, kid * KERNEL_STRIDE, opt, grad, i * OPT_STRIDE);
    }
    let checked = 0;
    for (let j = 0; j < opt.length; j++) {
      // float32 fields put ~1e-8 noise on the loss: the step must stay well above it
      const h = 2e-3;
      const plus = opt.slice(); plus[j]! += h;
      const minus = opt.slice(); minus[j]! -= h;
      const fd = ((await loss(plus, bg)) - (await loss(minus, bg))) / (2 * h);
      const tol = 3e-3 * Math.abs(fd) + 2e-6;
      assert.ok(Math.abs(fd - grad[j]!) <= tol, `param ${j % OPT_STRIDE} of Gaussian ${Math.floor(j / OPT_STRIDE)}: analytic ${grad[j]} vs finite difference ${fd}`);
      checked++;
    }
    for (let t = 0; t < bg.params.length; t++) {
      const h = 1e-3;
      const p = { ...bg, params: bg.params.slice() } as BackgroundModel; p.params[t]! += h;
      const m = { ...bg, params: bg.params.slice() } as BackgroundModel; m.params[t]! -= h;
      const fd = ((await loss(opt, p)) - (await loss(opt, m))) / (2 * h);
      const an = (2 / N) * r.bgGrad![t]!;
      assert.ok(Math.abs(fd - an) <= 1e-3 * Math.abs(fd) + 1e-7, `background ${t}: analytic ${an} vs ${fd}`);
    }
    assert.equal(checked, count * OPT_STRIDE);
  });
}
