/**
 * The compute pass of shaders/moments.wgsl: the fitter's per-kernel moments (fit/gradient.ts) from
 * a residual uploaded one slab at a time. `begin` zeroes the accumulator and uploads the support
 * boxes; each `add` queues one slab: its residual, its work list (moment-pieces.ts: every kernel's
 * support clipped to the slab, cut into pieces of bounded size) and two dispatches, one workgroup
 * per piece and then one invocation per kernel adding its pieces into the accumulator; `read`
 * brings the sums back. Queue order serialises the slabs, so the shared buffers can be rewritten freely.
 */
import type { Box } from "../core/background.js";
import { MOMENT_STRIDE } from "../fit/gradient.js";
import { GrowableBuffer } from "./growable-buffer.js";
import { momentPieces, PIECE_VOXELS } from "./moment-pieces.js";
import { momentsShader } from "./shaders.js";
import { WgslStruct } from "./wgsl-struct.js";

/** WebGPU's guaranteed maxComputeWorkgroupsPerDimension: more workgroups spill into a second dimension. */
const MAX_GROUPS = 65535;
/** Invocations per workgroup of both entry points (WG in the shader). */
const WG = 64;

const PARAMS = new WgslStruct("Params", [
  ["lo", "vec3<i32>"], // slab origin (x, y, z), inclusive
  ["pieces", "u32"], // pieces of this slab
  ["hi", "vec3<i32>"], // slab end (x, y, z), exclusive
  ["groups_x", "u32"], // workgroups along x of main's 2D dispatch (piece = y * groups_x + x)
  ["count", "u32"], // kernels
  ["piece_voxels", "u32"], // voxels per piece (the last piece of a kernel may have fewer)
  ["reduce_groups_x", "u32"], // workgroups along x of reduce's 2D dispatch
]);

/** Workgroups for `n` items as a 2D grid within the per-dimension limit. */
function grid(n: number): [number, number] {
  const x = Math.max(1, Math.min(n, MAX_GROUPS));
  return [x, Math.ceil(n / x)];
}

export class MomentsPass {
  private readonly main: GPUComputePipeline;
  private readonly reduce: GPUComputePipeline;
  private readonly params: GPUBuffer;
  private readonly boxes: GrowableBuffer;
  private readonly residual: GrowableBuffer;
  private readonly work: GrowableBuffer;
  private readonly first: GrowableBuffer;
  private readonly partials: GrowableBuffer;
  private readonly sums: GrowableBuffer;
  private readonly readback: GrowableBuffer;
  private count = 0;
  private hostBoxes: Int32Array = new Int32Array(0);
  private dispatched = 0;

  /** `pieceVoxels`: the most voxels one workgroup walks. */
  constructor(private readonly device: GPUDevice, private readonly pieceVoxels = PIECE_VOXELS) {
    const module = device.createShaderModule({ label: "vmg moments", code: momentsShader(PARAMS) });
    this.main = device.createComputePipeline({ label: "vmg moments", layout: "auto", compute: { module, entryPoint: "main" } });
    this.reduce = device.createComputePipeline({ label: "vmg moments reduce", layout: "auto", compute: { module, entryPoint: "reduce" } });
    this.params = device.createBuffer({ label: "vmg moments params", size: PARAMS.size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const storage = GPUBufferUsage.STORAGE;
    this.boxes = new GrowableBuffer(device, "vmg moments boxes", storage);
    this.residual = new GrowableBuffer(device, "vmg residual", storage);
    this.work = new GrowableBuffer(device, "vmg moments work", storage);
    this.first = new GrowableBuffer(device, "vmg moments first", storage);
    this.partials = new GrowableBuffer(device, "vmg moments partials", storage);
    this.sums = new GrowableBuffer(device, "vmg moments", storage | GPUBufferUsage.COPY_SRC);
    this.readback = new GrowableBuffer(device, "vmg moments readback", GPUBufferUsage.MAP_READ);
  }

  /** Start a step over `count` kernels with these support boxes (6 i32 each, `prepareKernels`): zero their accumulators. */
  begin(count: number, boxes: Int32Array): void {
    this.count = count;
    this.dispatched = 0;
    this.hostBoxes = boxes;
    this.boxes.write(boxes.length ? boxes : new Int32Array(1));
    const bytes = Math.max(4, count * MOMENT_STRIDE * 4);
    const encoder = this.device.createCommandEncoder({ label: "vmg moments clear" });
    encoder.clearBuffer(this.sums.ensure(bytes), 0, bytes);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Queue one slab: `kernels` holds this step's `Kernel` records (gpu-kernels.ts), `residual` the slab's, x fastest. */
  add(kernels: GPUBuffer, box: Box, residual: Float32Array): void {
    const plan = momentPieces(this.hostBoxes, this.count, box, this.pieceVoxels);
    if (plan.pieces === 0) return;
    this.dispatched += plan.pieces;
    const [groupsX, groupsY] = grid(plan.pieces), [reduceX, reduceY] = grid(Math.ceil(this.count / WG));
    this.device.queue.writeBuffer(this.params, 0, PARAMS.pack({
      lo: [box.x0, box.y0, box.z0], pieces: plan.pieces, hi: [box.x1, box.y1, box.z1], groups_x: groupsX,
      count: this.count, piece_voxels: this.pieceVoxels, reduce_groups_x: reduceX,
    }));
    const params = { binding: 0, resource: { buffer: this.params } };
    const partials = { binding: 7, resource: { buffer: this.partials.ensure(plan.pieces * MOMENT_STRIDE * 4) } };
    const mainGroup = this.device.createBindGroup({
      layout: this.main.getBindGroupLayout(0),
      entries: [
        params,
        { binding: 1, resource: { buffer: kernels } },
        { binding: 2, resource: { buffer: this.boxes.ensure(this.hostBoxes.byteLength) } },
        { binding: 3, resource: { buffer: this.residual.write(residual) } },
        { binding: 5, resource: { buffer: this.work.write(plan.work) } },
        partials,
      ],
    });
    const reduceGroup = this.device.createBindGroup({
      layout: this.reduce.getBindGroupLayout(0),
      entries: [
        params,
        { binding: 4, resource: { buffer: this.sums.ensure(this.count * MOMENT_STRIDE * 4) } },
        { binding: 6, resource: { buffer: this.first.write(plan.first) } },
        partials,
      ],
    });
    const encoder = this.device.createCommandEncoder({ label: "vmg moments" });
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.main);
    pass.setBindGroup(0, mainGroup);
    pass.dispatchWorkgroups(groupsX, groupsY);
    pass.setPipeline(this.reduce);
    pass.setBindGroup(0, reduceGroup);
    pass.dispatchWorkgroups(reduceX, reduceY);
    pass.end();
    this.device.queue.submit([encoder.finish()]);
  }

  /** Pieces dispatched since `begin` (workgroups of main), for tests and tuning. */
  get pieces(): number {
    return this.dispatched;
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
    for (const b of [this.boxes, this.residual, this.work, this.first, this.partials, this.sums, this.readback]) b.destroy();
  }
}
