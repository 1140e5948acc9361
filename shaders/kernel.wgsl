// The Gaussian kernel of src/core/gaussian.ts, once for every shader (`#include "kernel.wgsl"`).
// `Kernel` (generated from KERNEL_STRUCT in src/gpu/gpu-kernels.ts) holds the centre as an integer
// voxel plus a fraction, so the offset of a voxel from the centre is exact however far from the
// origin both lie; q is the Mahalanobis distance² and the kernel is
//   amp' * exp(-q/2) - floor   for q <= r2, else 0
// (amp' and floor already hold the shift that makes the truncated kernel zero at the cutoff).

// voxel − centre
fn kernel_offset(k: Kernel, voxel: vec3<i32>) -> vec3<f32> {
  return vec3<f32>(voxel - k.centre) - k.frac;
}

fn kernel_q(k: Kernel, d: vec3<f32>) -> f32 {
  return dot(k.a_diag, d * d) + 2.0 * dot(k.a_off, vec3<f32>(d.x * d.y, d.x * d.z, d.y * d.z));
}

fn kernel_inside(k: Kernel, q: f32) -> bool {
  return q <= k.r2;
}

// exp(-q/2): the unshifted falloff, which the fitter's moments weigh by
fn kernel_falloff(q: f32) -> f32 {
  return exp(-0.5 * q);
}

// The kernel's value at distance² q (0 outside the support).
fn kernel_value(k: Kernel, q: f32) -> f32 {
  if (!kernel_inside(k, q)) {
    return 0.0;
  }
  return k.amp * kernel_falloff(q) - k.floor;
}
