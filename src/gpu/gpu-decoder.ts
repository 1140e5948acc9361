/**
 * WebGPU counterpart of the CPU `VmgDecoder` for one file: kernels (prepared per scale by the
 * same `prepareKernels` as the CPU, then packed for the shader by gpu-kernels.ts: float32, with
 * each centre split into integer and fraction) and a brick index are uploaded once
 * per scale; each chunk is one dispatch. The background and the conversion to stored values run
 * on the CPU with the decoder's own functions, so both paths differ only in the Gaussian sum.
 */
import { addBackground, type Box } from "../core/background.js";
import { registerErrorClasses, VmgError } from "../core/errors.js";
import { allocVoxels, type VoxelArray } from "../core/dtype.js";
import type { Factors } from "../core/gaussian.js";
import type { VmgDecoder } from "../decode/decoder.js";
import { sumToValues } from "../decode/values.js";
import { buildBrickIndex } from "./brick-index.js";
import type { GpuContext } from "./device.js";
import { packKernels } from "./gpu-kernels.js";
import { SplatPass, type GpuScaleBuffers } from "./splat-pass.js";

const passes = new WeakMap<GPUDevice, SplatPass>();

/** The GPU could not decode a box (its device is lost, or a dispatch failed): the caller may decode it on the CPU. */
export class GpuDecodeError extends VmgError {
  static override readonly tag: string = "gpu/decode";
}
registerErrorClasses(GpuDecodeError);

export class GpuVmgDecoder {
  private readonly pass: SplatPass;
  private readonly scales = new Map<string, GpuScaleBuffers>();

  constructor(readonly gpu: GpuContext, readonly cpu: VmgDecoder) {
    let pass = passes.get(gpu.device);
    if (!pass) passes.set(gpu.device, (pass = new SplatPass(gpu.device)));
    this.pass = pass;
  }

  private scale(factors: Factors): GpuScaleBuffers {
    const key = factors.join(",");
    let s = this.scales.get(key);
    if (!s) {
      const { kernels, shape } = this.cpu.scale(factors);
      const index = buildBrickIndex(kernels, shape);
      s = {
        kernels: this.pass.upload(`vmg kernels ${key}`, packKernels(kernels)),
        start: this.pass.upload(`vmg brick start ${key}`, index.start),
        items: this.pass.upload(`vmg brick items ${key}`, index.items),
        globalCount: index.globalCount, brick: index.brick, dims: index.dims,
      };
      this.scales.set(key, s);
    }
    return s;
  }

  async decodeField(box: Box, factors: Factors): Promise<Float32Array> {
    return (await this.decodeFieldTimed(box, factors)).field;
  }

  /**
   * The field over `box` and the milliseconds this box itself took: its dispatch and readback
   * plus the background, not the per-scale upload (done once) nor waiting behind other boxes.
   */
  private async decodeFieldTimed(box: Box, factors: Factors, signal?: AbortSignal): Promise<{ field: Float32Array; ms: number }> {
    this.cpu.checkBox(box, factors);
    const { field: sum, ms } = await this.sum(box, factors, signal);
    const t0 = performance.now();
    addBackground(this.cpu.file.background, this.cpu.shape, box, factors, sum); // as the CPU decoder adds it
    return { field: sum, ms: ms + performance.now() - t0 };
  }

  /** Σ kernels over `box` on the GPU; any failure there is a GpuDecodeError. */
  private async sum(box: Box, factors: Factors, signal?: AbortSignal): Promise<{ field: Float32Array; ms: number }> {
    if (this.gpu.lost) throw new GpuDecodeError(this.gpu.lost);
    try {
      return await this.pass.run(this.scale(factors), box, signal);
    } catch (e) {
      // A box the caller cancelled did not fail: the device is fine. (A lost device's mapAsync
      // also rejects with an AbortError, so the signal, not the error's name, tells them apart.)
      if (signal?.aborted) throw e;
      // A dispatch on a destroyed device fails before device.lost settles: say what we know.
      throw new GpuDecodeError(this.gpu.lost ?? `WebGPU decode failed: ${(e as Error).message ?? e}`);
    }
  }

  async decode(box: Box, factors: Factors): Promise<VoxelArray> {
    return (await this.decodeTimed(box, factors)).data;
  }

  /** `decode` and its own time in milliseconds (see decodeFieldTimed); `signal` drops the box while queued. */
  async decodeTimed(box: Box, factors: Factors, signal?: AbortSignal): Promise<{ data: VoxelArray; ms: number }> {
    this.cpu.checkBox(box, factors);
    const { field: sum, ms } = await this.sum(box, factors, signal);
    const t0 = performance.now();
    const h = this.cpu.file.header;
    const values = allocVoxels(h.dtype, sum.length);
    // the background added in the conversion's sweep, as the CPU decoder does
    sumToValues(sum, { model: this.cpu.file.background, shape: this.cpu.shape, box, factors }, h.dtype, h.valueOffset, h.valueScale, values);
    return { data: values, ms: ms + performance.now() - t0 };
  }

  /** Dispatches of this device's decode pass so far. */
  get dispatches(): number {
    return this.pass.dispatches;
  }

  /** Bytes of this file's GPU buffers (kernels and brick index, every scale uploaded). */
  gpuBytes(): number {
    let n = 0;
    for (const s of this.scales.values()) n += s.kernels.size + s.start.size + s.items.size;
    return n;
  }

  /** Free the GPU buffers (the file left every cache). */
  destroy(): void {
    for (const s of this.scales.values()) { s.kernels.destroy(); s.start.destroy(); s.items.destroy(); }
    this.scales.clear();
  }
}
