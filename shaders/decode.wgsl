// Gaussian splat gather: one invocation per voxel of a chunk box on a scale grid. Each voxel sums
// the kernels (kernel.wgsl) listed for its brick, plus the global list. The background is added
// by the caller. `Params` and `Kernel` are generated on the TypeScript side (src/gpu/splat-pass.ts,
// src/gpu/gpu-kernels.ts) and prepended with the constants; workgroup dimensions are pipeline
// overrides.

#include "kernel.wgsl"

override WG_X: u32 = 4u;
override WG_Y: u32 = 4u;
override WG_Z: u32 = 4u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> kernels: array<Kernel>;
@group(0) @binding(2) var<storage, read> brick_start: array<u32>;
@group(0) @binding(3) var<storage, read> items: array<u32>;
@group(0) @binding(4) var<storage, read_write> field: array<f32>;

fn splat(id: u32, voxel: vec3<i32>) -> f32 {
  let k = kernels[id];
  return kernel_value(k, kernel_q(k, kernel_offset(k, voxel)));
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (any(gid >= params.size)) {
    return;
  }
  let voxel = params.origin + vec3<i32>(gid);
  var sum = 0.0;
  for (var i = 0u; i < params.global_count; i++) {
    sum += splat(items[i], voxel);
  }
  let bc = vec3<u32>(voxel) / params.brick;
  let brick = (bc.z * params.bricks.y + bc.y) * params.bricks.x + bc.x;
  let end = brick_start[brick + 1u];
  for (var p = brick_start[brick]; p < end; p++) {
    sum += splat(items[p], voxel);
  }
  field[(gid.z * params.size.y + gid.y) * params.size.x + gid.x] = sum;
}
