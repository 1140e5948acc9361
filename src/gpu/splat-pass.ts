/**
 * The compute pass of shaders/decode.wgsl: one dispatch per chunk box, result read back as
 * float32. Owns the pipeline, the uniform buffer and the output/readback buffers, which grow
 * (doubling, from 64 KiB) to the largest box seen. Dispatches are serialised: the readback buffer is shared.
 */
import type { Box } from "../core/background.js";
import { SerialQueue } from "../core/serial-queue.js";
import { GrowableBuffer } from "./growable-buffer.js";
import { decodeShader } from "./shaders.js";
import { WgslStruct } from "./wgsl-struct.js";

const WORKGROUP: [number, number, number] = [4, 4, 4];

const PARAMS = new WgslStruct("Params", [
  ["origin", "vec3<i32>"], // box origin on the scale grid (x, y, z)
  ["global_count", "u32"], // kernels in the global list (items[0 .. global_count))
  ["size", "vec3<u32>"], // box size (x, y, z)
  ["brick", "u32"], // brick edge in voxels
  ["bricks", "vec3<u32>"], // bricks along x, y, z
]);

/** Kernels and brick index of one (file, scale), resident on the GPU. */
export interface GpuScaleBuffers {
  /** `Kernel` records (gpu-kernels.ts). */
  kernels: GPUBuffer;
  start: GPUBuffer;
  items: GPUBuffer;
  globalCount: number;
  brick: number;
  dims: [number, number, number];
}

export class SplatPass {
  private readonly pipeline: GPUComputePipeline;
  private readonly params: GPUBuffer;
  private readonly output: GrowableBuffer;
  private readonly readback: GrowableBuffer;
  private readonly queue = new SerialQueue();
  /** Dispatches run so far (tests check that a dropped box cost none). */
  dispatches = 0;

  constructor(private readonly device: GPUDevice) {
    const module = device.createShaderModule({ label: "vmg decode", code: decodeShader(PARAMS) });
    this.pipeline = device.createComputePipeline({
      label: "vmg decode",
      layout: "auto",
      compute: { module, entryPoint: "main", constants: { WG_X: WORKGROUP[0], WG_Y: WORKGROUP[1], WG_Z: WORKGROUP[2] } },
    });
    this.params = device.createBuffer({ label: "vmg params", size: PARAMS.size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.output = new GrowableBuffer(device, "vmg field", GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 1 << 16);
    this.readback = new GrowableBuffer(device, "vmg readback", GPUBufferUsage.MAP_READ, 1 << 16);
  }

  /** Upload a storage buffer (at least 4 bytes: WebGPU rejects empty bindings). */
  upload(label: string, data: Float32Array | Uint32Array): GPUBuffer {
    const buffer = this.device.createBuffer({ label, size: Math.max(4, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    if (data.byteLength > 0) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /**
   * Σ kernels over `box` (x fastest), as float32, and the milliseconds of this box's own dispatch
   * and readback (time spent waiting behind earlier boxes excluded). A box whose `signal` aborts
   * while it waits is dropped undispatched.
   */
  run(scale: GpuScaleBuffers, box: Box, signal?: AbortSignal): Promise<{ field: Float32Array; ms: number }> {
    return this.queue.run(() => this.dispatch(scale, box), signal);
  }

  /** Free the pass's own buffers (an engine's pass; the decoder's lives as long as its device). */
  destroy(): void {
    this.params.destroy();
    this.output.destroy();
    this.readback.destroy();
  }

  private async dispatch(scale: GpuScaleBuffers, box: Box): Promise<{ field: Float32Array; ms: number }> {
    this.dispatches++;
    const t0 = performance.now();
    const sx = box.x1 - box.x0, sy = box.y1 - box.y0, sz = box.z1 - box.z0;
    const bytes = sx * sy * sz * 4;
    const output = this.output.ensure(bytes), readback = this.readback.ensure(bytes);
    const p = PARAMS.pack({
      origin: [box.x0, box.y0, box.z0], global_count: scale.globalCount, size: [sx, sy, sz], brick: scale.brick, bricks: scale.dims,
    });
    this.device.queue.writeBuffer(this.params, 0, p);
    const bindGroup = this.device.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.params } },
        { binding: 1, resource: { buffer: scale.kernels } },
        { binding: 2, resource: { buffer: scale.start } },
        { binding: 3, resource: { buffer: scale.items } },
        { binding: 4, resource: { buffer: output, size: bytes } },
      ],
    });
    const encoder = this.device.createCommandEncoder({ label: "vmg decode" });
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(sx / WORKGROUP[0]), Math.ceil(sy / WORKGROUP[1]), Math.ceil(sz / WORKGROUP[2]));
    pass.end();
    encoder.copyBufferToBuffer(output, 0, readback, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ, 0, bytes);
    const field = new Float32Array(readback.getMappedRange(0, bytes).slice(0));
    readback.unmap();
    return { field, ms: performance.now() - t0 };
  }
}
