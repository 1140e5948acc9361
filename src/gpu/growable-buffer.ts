/**
 * A GPU buffer reused across dispatches (fit steps, decoded chunks). It is reallocated (doubling,
 * from `minBytes`) only when the contents outgrow it, so steady-state work allocates nothing.
 * Work already submitted keeps a replaced buffer alive until it completes (WebGPU's destroy rule).
 */
export class GrowableBuffer {
  private buffer: GPUBuffer | undefined;
  private capacity = 0;

  constructor(
    private readonly device: GPUDevice, private readonly label: string, private readonly usage: GPUBufferUsageFlags,
    private readonly minBytes = 256,
  ) {}

  /** The buffer, at least `bytes` long (contents undefined after growth). */
  ensure(bytes: number): GPUBuffer {
    if (!this.buffer || bytes > this.capacity) {
      let capacity = Math.max(this.minBytes, this.capacity);
      while (capacity < bytes) capacity *= 2;
      this.buffer?.destroy();
      this.buffer = this.device.createBuffer({ label: this.label, size: capacity, usage: this.usage | GPUBufferUsage.COPY_DST });
      this.capacity = capacity;
    }
    return this.buffer;
  }

  /** Write `data` at offset 0 (queue-ordered), growing first if needed. */
  write(data: Float32Array | Uint32Array | Int32Array): GPUBuffer {
    const buffer = this.ensure(data.byteLength);
    if (data.byteLength > 0) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  destroy(): void {
    this.buffer?.destroy();
    this.buffer = undefined;
    this.capacity = 0;
  }
}
