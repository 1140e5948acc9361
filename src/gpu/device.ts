/**
 * One WebGPU device per JavaScript realm (page or worker), requested on first use. Resolves to
 * undefined when the browser exposes no WebGPU or no adapter, or when the request failed (remembered
 * with its reason, gpuUnavailable: not asked again per chunk); a lost device is forgotten so the
 * next request starts over, and its context says why it was lost, so the decoders holding it
 * stop dispatching.
 */
export interface GpuContext {
  device: GPUDevice;
  /** "vendor architecture description" of the adapter, for logs and the layer tab. */
  adapter: string;
  /** A software adapter (isFallbackAdapter, or SwiftShader / llvmpipe by name). */
  fallback: boolean;
  /** Set once the device is lost: "WebGPU device lost (reason): message". */
  lost?: string;
}

let pending: Promise<GpuContext | undefined> | undefined;
let failure: string | undefined;

export function getGpu(): Promise<GpuContext | undefined> {
  pending ??= requestGpu().catch((e: unknown) => {
    failure = `WebGPU device request failed: ${e instanceof Error ? e.message : String(e)}`;
    console.warn(`volmicro: ${failure}`);
    return undefined;
  });
  return pending;
}

/** Why getGpu gave no device: its request failed (and why), or there is no WebGPU adapter. */
export function gpuUnavailable(): string {
  return failure ?? "no WebGPU adapter";
}

async function requestGpu(): Promise<GpuContext | undefined> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return undefined;
  const adapter = await gpu.requestAdapter();
  if (!adapter) return undefined;
  // Large files need large index buffers: ask for everything the adapter offers.
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  const i = adapter.info;
  const name = [i.vendor, i.architecture, i.description].filter((s) => s).join(" ") || "unknown adapter";
  // A software rasteriser counts as no GPU for "auto", whether or not it says it is a fallback.
  const fallback = ((i as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false) || /swiftshader|llvmpipe|lavapipe/i.test(name);
  const ctx: GpuContext = { device, adapter: name, fallback };
  void device.lost.then((info) => {
    ctx.lost = `WebGPU device lost (${info.reason || "unknown reason"})${info.message ? `: ${info.message}` : ""}`;
    console.warn(`volmicro: ${ctx.lost}`);
    pending = undefined;
  });
  return ctx;
}
