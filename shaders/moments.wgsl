// Kernel moments for the fitter's gradient (src/fit/gradient.ts), per slab, in two dispatches.
//
// `main`: one workgroup per piece. A piece is a run of at most `piece_voxels` consecutive voxels
// (x fastest, so whole z-slabs when the support is small across) of one kernel's support box
// clipped to the slab; src/gpu/moment-pieces.ts cuts them, so no workgroup walks an unbounded
// support. The workgroup keeps the voxels with q <= r^2 (those the decoder's rows cover) and
// accumulates, with e = exp(-q/2) and d = voxel - centre,
//   Σr, Σr·e, Σr·e·d (x y z), Σr·e·d dᵀ (xx xy xz yy yz zz)        in the M_* order,
// in f32 per invocation, sums the invocations in workgroup memory and writes the piece's partial.
// `reduce`: one invocation per kernel adds its pieces' partials, in order, into `moments`. Slabs
// are dispatched one after another on the queue, so no atomics are needed.
// `Params` and `Kernel` are generated on the TypeScript side (src/gpu/moments-pass.ts,
// src/gpu/gpu-kernels.ts); the moment layout (MOMENT_STRIDE, M_*) comes from the prelude.

#include "kernel.wgsl"

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> kernels: array<Kernel>;
@group(0) @binding(2) var<storage, read> boxes: array<i32>;        // x0 x1 y0 y1 z0 z1, inclusive
@group(0) @binding(3) var<storage, read> residual: array<f32>;     // the slab, x fastest
@group(0) @binding(4) var<storage, read_write> moments: array<f32>;
@group(0) @binding(5) var<storage, read> work: array<vec2<u32>>;   // per piece: kernel, first voxel
@group(0) @binding(6) var<storage, read> first: array<u32>;        // per kernel: its pieces first[k] .. first[k + 1]
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;

var<workgroup> partial: array<array<f32, MOMENT_STRIDE>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let piece = wid.y * params.groups_x + wid.x;
  var acc: array<f32, MOMENT_STRIDE>;
  // No early return: every invocation must reach the barriers below.
  if (piece < params.pieces) {
    let id = work[piece].x;
    let b = id * 6u;
    let lo = max(vec3<i32>(boxes[b], boxes[b + 2u], boxes[b + 4u]), params.lo);
    let hi = min(vec3<i32>(boxes[b + 1u], boxes[b + 3u], boxes[b + 5u]) + 1, params.hi);
    if (all(hi > lo)) {
      let k = kernels[id];
      let size = vec3<u32>(hi - lo);
      let slab = vec3<u32>(params.hi - params.lo);
      let end = min(size.x * size.y * size.z, work[piece].y + params.piece_voxels);
      for (var i = work[piece].y + lid; i < end; i += WG) {
        let local = vec3<u32>(i % size.x, (i / size.x) % size.y, i / (size.x * size.y));
        let v = lo + vec3<i32>(local);
        let d = kernel_offset(k, v);
        let q = kernel_q(k, d);
        if (!kernel_inside(k, q)) {
          continue;
        }
        let s = vec3<u32>(v - params.lo);
        let r = residual[(s.z * slab.y + s.y) * slab.x + s.x];
        let re = r * kernel_falloff(q);
        acc[M_R] += r;
        acc[M_E] += re;
        acc[M_EX] += re * d.x;
        acc[M_EY] += re * d.y;
        acc[M_EZ] += re * d.z;
        acc[M_EXX] += re * d.x * d.x;
        acc[M_EXY] += re * d.x * d.y;
        acc[M_EXZ] += re * d.x * d.z;
        acc[M_EYY] += re * d.y * d.y;
        acc[M_EYZ] += re * d.y * d.z;
        acc[M_EZZ] += re * d.z * d.z;
      }
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) {
      for (var m = 0u; m < MOMENT_STRIDE; m++) {
        partial[lid][m] += partial[lid + half][m];
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u && piece < params.pieces) {
    for (var m = 0u; m < MOMENT_STRIDE; m++) {
      partials[piece * MOMENT_STRIDE + m] = partial[0][m];
    }
  }
}

@compute @workgroup_size(WG)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
  let id = gid.y * params.reduce_groups_x * WG + gid.x;
  if (id >= params.count) {
    return;
  }
  let p0 = first[id];
  let p1 = first[id + 1u];
  if (p0 == p1) {
    return;
  }
  var acc: array<f32, MOMENT_STRIDE>;
  for (var p = p0; p < p1; p++) {
    for (var m = 0u; m < MOMENT_STRIDE; m++) {
      acc[m] += partials[p * MOMENT_STRIDE + m];
    }
  }
  for (var m = 0u; m < MOMENT_STRIDE; m++) {
    moments[id * MOMENT_STRIDE + m] += acc[m];
  }
}
