/**
 * Pool worker: a small synthetic chunk decoded a few times as the worker starts, so that the
 * first real chunk runs compiled code. A fresh worker decodes its first 64³ chunk in V8's
 * interpreter and baseline tiers until the hot loops are optimised: about 100 ms against 7 ms warm
 * (bench:store-profile's trace at 25 Mbit/s); its first chunk arrives about three round trips
 * (shard size, shard index, chunk) after the warm request starts it, time the network leaves the
 * worker idle. The chunk has the store's own encoding, value mapping and dtype (what the decode
 * branches on) and a first-degree polynomial background (what the store fitter writes).
 */
import { backgroundParamCount, type BackgroundModel } from "../core/background.js";
import type { DType } from "../core/dtype.js";
import type { Shape3 } from "../core/gaussian.js";
import { decodeChunk, encodeChunk } from "../store/codec/chunk.js";
import type { GaussianCodecConfig } from "../store/codec/config.js";
import { syntheticNeuron } from "../synthetic/neuron.js";
import { poolScratch } from "./pool-scratch.js";

/** Rows and planes as large as a 64³ chunk's, a quarter of its voxels. */
export const WARM_UP_SHAPE: Shape3 = [16, 64, 64];
const GAUSSIANS = 64;
/** Decodes at most, and the time after which no further one starts. */
const MAX_DECODES = 8;
const BUDGET_MS = 60;

/** The synthetic chunk (of shape WARM_UP_SHAPE) under `config`. */
export function warmUpChunk(config: GaussianCodecConfig): Uint8Array {
  const shape = { kind: "polynomial", degree: 1 } as const;
  const background: BackgroundModel = { ...shape, params: new Float64Array(backgroundParamCount(shape)).fill(0.01) };
  const neuron = syntheticNeuron({ shape: WARM_UP_SHAPE, gaussians: GAUSSIANS, seed: 1, perCurve: 8 });
  return encodeChunk({ background, gaussians: neuron.gaussians, count: neuron.count }, WARM_UP_SHAPE, config);
}

let warmed = false;

/** Decodes the synthetic chunk under `config` until warm; the decodes made (0 once this worker is warm). */
export function warmDecoder(dtype: DType, config: GaussianCodecConfig): number {
  if (warmed) return 0;
  warmed = true;
  const t0 = performance.now();
  const bytes = warmUpChunk(config);
  let n = 0;
  while (n < MAX_DECODES && performance.now() - t0 < BUDGET_MS) {
    decodeChunk(bytes, WARM_UP_SHAPE, dtype, config, poolScratch(WARM_UP_SHAPE[0] * WARM_UP_SHAPE[1] * WARM_UP_SHAPE[2]));
    n++;
  }
  return n;
}
