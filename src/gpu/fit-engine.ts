/**
 * The fitter's `FitEngine` on WebGPU. Per step the kernels are prepared on the CPU exactly as for
 * the CPU engines (`prepareKernels`, packed like the GPU decoder's by gpu-kernels.ts) and uploaded
 * with a brick index; then for each slab of the step:
 *  - forward: the decoder's own splat pass (splat-pass.ts) gives Σ kernels over the slab;
 *  - residual: background, r = w·(field − target), wsse/sse and the background gradient are done
 *    on the CPU in f64, exactly as SlabEvaluator does. The splat pass reads the field back anyway,
 *    this keeps the sums in double precision and needs no second copy of the background code in
 *    WGSL; it costs one upload of the residual, O(voxels) next to the O(Σ support) GPU passes;
 *  - moments: the residual goes back up and moments-pass.ts adds each kernel's 11 moments (in
 *    pieces of at most `pieceVoxels` voxels per workgroup, see moment-pieces.ts).
 * Moments are f32 sums on the GPU (relative error about 1e-5 against the CPU's f64). One call at
 * a time: the fitter awaits each, and the passes' buffers are shared between a call's slabs.
 */
import { accumulateBackgroundGradient, fillBackground, type Box } from "../core/background.js";
import { prepareKernels } from "../decode/kernels.js";
import { slabs, SLAB_VOXELS, type EvalRequest, type EvalResult, type FitEngine } from "../fit/engine.js";
import { MOMENT_STRIDE } from "../fit/gradient.js";
import type { FitTarget } from "../fit/objective.js";
import { buildBrickIndex } from "./brick-index.js";
import type { GpuContext } from "./device.js";
import { packKernels } from "./gpu-kernels.js";
import { SerialQueue } from "../core/serial-queue.js";
import { GrowableBuffer } from "./growable-buffer.js";
import { MomentsPass } from "./moments-pass.js";
import { SplatPass, type GpuScaleBuffers } from "./splat-pass.js";

export class WebGpuEngine implements FitEngine {
  readonly slabs: Box[];
  private readonly splat: SplatPass;
  private readonly moments: MomentsPass;
  private readonly kernels: GrowableBuffer;
  private readonly start: GrowableBuffer;
  private readonly items: GrowableBuffer;
  private bg = new Float32Array(0);
  /** Calls share the upload buffers and the moments accumulator: overlapping calls run one at a time. */
  private readonly calls = new SerialQueue();

  /** `pieceVoxels`: the most voxels one workgroup of the moments pass walks (moment-pieces.ts). */
  constructor(readonly gpu: GpuContext, private readonly target: FitTarget, slabVoxels = SLAB_VOXELS, pieceVoxels?: number) {
    const device = gpu.device, storage = GPUBufferUsage.STORAGE;
    this.slabs = slabs(target.shape, slabVoxels);
    this.splat = new SplatPass(device);
    this.moments = new MomentsPass(device, pieceVoxels);
    this.kernels = new GrowableBuffer(device, "fit kernels", storage);
    this.start = new GrowableBuffer(device, "fit brick start", storage);
    this.items = new GrowableBuffer(device, "fit brick items", storage);
  }

  /** Workgroups of the moments pass in the last gradient evaluation. */
  get momentPieces(): number {
    return this.moments.pieces;
  }

  /** Prepare and upload this step's kernels; `source` maps kernel → Gaussian. */
  private upload(req: Omit<EvalRequest, "gradients">): { scale: GpuScaleBuffers; boxes: Int32Array; count: number; source: Uint32Array } {
    const kernels = prepareKernels(req.params, this.target.shape, [1, 1, 1], req.radius);
    const index = buildBrickIndex(kernels, this.target.shape);
    const scale: GpuScaleBuffers = {
      kernels: this.kernels.write(packKernels(kernels)),
      start: this.start.write(index.start),
      items: this.items.write(index.items),
      globalCount: index.globalCount, brick: index.brick, dims: index.dims,
    };
    return { scale, boxes: kernels.box, count: kernels.count, source: kernels.source };
  }

  /** Background + Σ kernels over `box` (box-sized, x fastest), as the decoder computes it. */
  private async field(scale: GpuScaleBuffers, box: Box, background: EvalRequest["background"]): Promise<Float32Array> {
    const { field } = await this.splat.run(scale, box);
    if (this.bg.length < field.length) this.bg = new Float32Array(field.length);
    const bg = this.bg.subarray(0, field.length);
    fillBackground(background, this.target.shape, box, [1, 1, 1], bg);
    for (let i = 0; i < field.length; i++) field[i] = bg[i]! + field[i]!;
    return field;
  }

  evaluate(req: EvalRequest): Promise<EvalResult> {
    return this.calls.run(() => this.evaluateNow(req));
  }

  predict(req: Omit<EvalRequest, "gradients">): Promise<Float32Array> {
    return this.calls.run(() => this.predictNow(req));
  }

  private async evaluateNow(req: EvalRequest): Promise<EvalResult> {
    const { scale, boxes, count, source } = this.upload(req);
    const [, ny, nx] = this.target.shape;
    const t = this.target.data, edges = this.target.edges, boost = this.target.edgeBoost;
    const bgGrad = req.gradients ? new Float64Array(req.background.params.length) : undefined;
    if (req.gradients) this.moments.begin(count, boxes);
    let wsse = 0, sse = 0, voxels = 0;
    const ids = req.subset ?? this.slabs.map((_, i) => i);
    for (const i of ids) {
      const box = this.slabs[i]!;
      const pred = await this.field(scale, box, req.background);
      // residual in place, as SlabEvaluator: dL/dfield = 2 w (pred − target) / N, scaled by the caller
      let o = 0;
      for (let z = box.z0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++) {
        for (let src = (z * ny + y) * nx + box.x0, end = src + box.x1 - box.x0; src < end; src++, o++) {
          const diff = pred[o]! - t[src]!;
          const wv = edges && edges[src] ? boost : 1;
          sse += diff * diff;
          wsse += wv * diff * diff;
          pred[o] = wv * diff;
        }
      }
      voxels += pred.length;
      if (!bgGrad) continue;
      accumulateBackgroundGradient(req.background, this.target.shape, box, pred, bgGrad);
      this.moments.add(scale.kernels, box, pred);
    }
    if (!bgGrad) return { wsse, sse, voxels };
    const sums = await this.moments.read();
    const moments = new Float64Array(req.count * MOMENT_STRIDE);
    for (let k = 0; k < count; k++) {
      const a = source[k]! * MOMENT_STRIDE;
      for (let m = 0; m < MOMENT_STRIDE; m++) moments[a + m] = sums[k * MOMENT_STRIDE + m]!;
    }
    return { wsse, sse, voxels, moments, bgGrad };
  }

  private async predictNow(req: Omit<EvalRequest, "gradients">): Promise<Float32Array> {
    const { scale } = this.upload(req);
    const [, ny, nx] = this.target.shape;
    const out = new Float32Array(this.target.data.length);
    for (const box of this.slabs) out.set(await this.field(scale, box, req.background), box.z0 * ny * nx);
    return out;
  }

  async close(): Promise<void> {
    this.splat.destroy();
    this.moments.destroy();
    for (const b of [this.kernels, this.start, this.items]) b.destroy();
  }
}
