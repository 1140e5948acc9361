/**
 * The compute pass of shaders/moments.wgsl: the fitter's per-kernel moments (fit/gradient.ts) from
 * a residual uploaded one slab at a time. `begin` zeroes the accumulator, each `add` queues one
 * slab (its residual upload and a dispatch that adds into the accumulator), `read` brings the sums
 * back. Queue order serialises the slabs, so the shared residual buffer can be rewritten freely.
 */
import type { Box } from "../core/background.js";
import { wgslConstants } from "../core/constants.js";
import { MOMENT_STRIDE, wgslMomentConstants } from "../fit/gradient.js";
import shaderSource from "../../shaders/moments.wgsl?raw";
import { GrowableBuffer } from "./growable-buffer.js";

const PARAMS_BYTES = 32;
/** WebGPU's guaranteed maxComputeWorkgroupsPerDimension: more kernels spill into a second dimension. */
const MAX_GROUPS = 65535;

export class MomentsPass {
  private readonly pipeline: GPUComputePipeline;
  private readonly params: GPUBuffer;
  private readonly residual: GrowableBuffer;
  private readonly sums: GrowableBuffer;
  private readonly readback: GrowableBuffer;
  private count = 0;

  constructor(private readonly device: GPUDevice) {
    const module = device.createShaderModule({ label: "vmg moments", code: wgslConstants() + wgslMomentConstants() + shaderSource });
    this.pipeline = device.createComputePipeline({ label: "vmg moments", layout: "auto", compute: { module, entryPoint: "main" } });
    this.params = device.createBuffer({ label: "vmg moments params", size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.residual = new GrowableBuffer(device, "vmg residual", GPUBufferUsage.STORAGE);
    this.sums = new GrowableBuffer(device, "vmg moments", GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    this.readback = new GrowableBuffer(device, "vmg moments readback", GPUBufferUsage.MAP_READ);
  }

  /** Start a step over `count` kernels: zero their accumulators. */
  begin(count: number): void {
    this.count = count;
    const bytes = Math.max(4, count * MOMENT_STRIDE * 4);
    const encoder = this.device.createCommandEncoder({ label: "vmg moments clear" });
    encoder.clearBuffer(this.sums.ensure(bytes), 0, bytes);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Queue one slab: `kernels` (KERNEL_STRIDE f32 each) and `boxes` (6 i32 each) as uploaded for this step. */
  add(kernels: GPUBuffer, boxes: GPUBuffer, box: Box, residual: Float32Array): void {
    if (this.count === 0) return;
    const groupsX = Math.min(this.count, MAX_GROUPS);
    const p = new Int32Array(PARAMS_BYTES / 4);
    p.set([box.x0, box.y0, box.z0, this.count, box.x1, box.y1, box.z1, groupsX]);
    this.device.queue.writeBuffer(this.params, 0, p);
    const bindGroup = this.device.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.params } },
        { binding: 1, resource: { buffer: kernels } },
        { binding: 2, resource: { buffer: boxes } },
        { binding: 3, resource: { buffer: this.residual.write(residual) } },
        { binding: 4, resource: { buffer: this.sums.ensure(this.count * MOMENT_STRIDE * 4) } },
      ],
    });
    const encoder = this.device.createCommandEncoder({ label: "vmg moments" });
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groupsX, Math.ceil(this.count / groupsX));
    pass.end();
    this.device.queue.submit([encoder.finish()]);
  }

  /** The summed moments of every kernel since `begin`, MOMENT_STRIDE floats each. */
  async read(): Promise<Float32Array> {
    const bytes = this.count * MOMENT_STRIDE * 4;
    if (bytes === 0) return new Float32Array(0);
    const readback = this.readback.ensure(bytes);
    const encoder = this.device.createCommandEncoder({ label: "vmg moments readback" });
    encoder.copyBufferToBuffer(this.sums.ensure(bytes), 0, readback, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ, 0, bytes);
    const out = new Float32Array(readback.getMappedRange(0, bytes).slice(0));
    readback.unmap();
    return out;
  }

  destroy(): void {
    this.params.destroy();
    this.residual.destroy();
    this.sums.destroy();
    this.readback.destroy();
  }
}
