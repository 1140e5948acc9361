/**
 * Prepared kernels (decode/kernels.ts, float64) as the shaders read them: one `Kernel` record each
 * (shaders/kernel.wgsl). The centre is split into its integer voxel (i32) and the fraction left
 * (f32, in [0, 1)), so a shader forms voxel − centre as an exact integer difference plus a small
 * float. Absolute float32 centres would not do: at x ≈ 100,000 their spacing is 1/128 voxel, which
 * moves a σ 0.3 Gaussian's value by about 1 % of its peak.
 */
import {
  K_AMP, K_AXX, K_AXY, K_AXZ, K_AYY, K_AYZ, K_AZZ, K_CX, K_CY, K_CZ, K_FLOOR, K_R2, KERNEL_STRIDE,
} from "../core/constants.js";
import type { PreparedKernels } from "../decode/kernels.js";
import { WgslStruct } from "./wgsl-struct.js";

export const KERNEL_STRUCT = new WgslStruct("Kernel", [
  ["centre", "vec3<i32>"], // integer part (floor) of the centre, x y z
  ["amp", "f32"], // K_AMP
  ["frac", "vec3<f32>"], // centre − floor(centre)
  ["r2", "f32"], // K_R2
  ["a_diag", "vec3<f32>"], // inverse covariance xx yy zz
  ["floor", "f32"], // K_FLOOR
  ["a_off", "vec3<f32>"], // inverse covariance xy xz yz
]);

/** The records of every kernel, ready for a storage buffer (at least one record: WebGPU rejects empty bindings). */
export function packKernels(kernels: PreparedKernels): Float32Array {
  const s = KERNEL_STRUCT;
  const views = s.alloc(Math.max(1, kernels.count));
  const k = kernels.k;
  for (let i = 0; i < kernels.count; i++) {
    const b = i * KERNEL_STRIDE;
    const cx = k[b + K_CX]!, cy = k[b + K_CY]!, cz = k[b + K_CZ]!;
    const ix = integerPart(cx), iy = integerPart(cy), iz = integerPart(cz);
    s.set(views, i, "centre", ix, iy, iz);
    s.set(views, i, "frac", cx - ix, cy - iy, cz - iz);
    s.set(views, i, "amp", k[b + K_AMP]!);
    s.set(views, i, "r2", k[b + K_R2]!);
    s.set(views, i, "floor", k[b + K_FLOOR]!);
    s.set(views, i, "a_diag", k[b + K_AXX]!, k[b + K_AYY]!, k[b + K_AZZ]!);
    s.set(views, i, "a_off", k[b + K_AXY]!, k[b + K_AXZ]!, k[b + K_AYZ]!);
  }
  return views.f32;
}

/** floor(c), kept in i32 range like the support boxes (a centre that far out leaves its rest in the fraction). */
function integerPart(c: number): number {
  return Math.max(-0x40000000, Math.min(0x40000000, Math.floor(c)));
}
