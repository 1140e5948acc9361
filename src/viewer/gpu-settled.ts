/**
 * The realm's WebGPU device (src/gpu/device.ts) without waiting for it. Requesting an adapter and
 * a device takes hundreds of milliseconds on some machines (about 300 ms in the chunk worker of
 * headless Chromium on SwiftShader, bench:store-profile), longer than a view's chunks take to
 * arrive: "auto" decodes on the CPU until the device is there instead of holding the first frame.
 */
import { getGpu, type GpuContext } from "../gpu/device.js";

let current: Promise<GpuContext | undefined> | undefined;
let settled: { value: GpuContext | undefined } | undefined;

/** The device if its request has settled (undefined: no WebGPU or no adapter), else "pending"; starts the request if none runs. */
export function gpuIfSettled(): GpuContext | undefined | "pending" {
  const p = getGpu();
  // getGpu starts over after a failure or a lost device: follow its newest request
  if (p !== current) {
    current = p;
    settled = undefined;
    void p.then((value) => { if (current === p) settled = { value }; });
  }
  return settled ? settled.value : "pending";
}
