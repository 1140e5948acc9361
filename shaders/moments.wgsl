// Kernel moments for the fitter's gradient (src/fit/gradient.ts). One workgroup per prepared
// kernel walks the voxels of its support box clipped to the slab, keeps those with q <= r^2 (the
// voxels the decoder's rows cover) and accumulates, with e = exp(-q/2) and d = voxel - centre,
//   Σr, Σr·e, Σr·e·d (x y z), Σr·e·d dᵀ (xx xy xz yy yz zz)        in the M_* order,
// in f32 per invocation, then sums the invocations in workgroup memory. A dispatch adds into
// `moments` (slabs are dispatched one after another on the queue), so no atomics are needed.
// Kernel constants (KERNEL_STRIDE, K_*) and the moment layout (MOMENT_STRIDE, M_*) come from
// preludes generated on the TypeScript side.

const WG: u32 = 64u;

struct Params {
  lo: vec3<i32>,       // slab origin (x, y, z), inclusive
  count: u32,          // kernels
  hi: vec3<i32>,       // slab end (x, y, z), exclusive
  groups_x: u32,       // workgroups along x of the 2D dispatch (kernel = y * groups_x + x)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> kernels: array<f32>;
@group(0) @binding(2) var<storage, read> boxes: array<i32>;        // x0 x1 y0 y1 z0 z1, inclusive
@group(0) @binding(3) var<storage, read> residual: array<f32>;     // the slab, x fastest
@group(0) @binding(4) var<storage, read_write> moments: array<f32>;

var<workgroup> partial: array<array<f32, MOMENT_STRIDE>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let id = wid.y * params.groups_x + wid.x;
  var acc: array<f32, MOMENT_STRIDE>;
  // No early return: every invocation must reach the barriers below.
  if (id < params.count) {
    let b = id * 6u;
    let lo = max(vec3<i32>(boxes[b], boxes[b + 2u], boxes[b + 4u]), params.lo);
    let hi = min(vec3<i32>(boxes[b + 1u], boxes[b + 3u], boxes[b + 5u]) + 1, params.hi);
    if (all(hi > lo)) {
      let k = id * KERNEL_STRIDE;
      let c = vec3<f32>(kernels[k + K_CX], kernels[k + K_CY], kernels[k + K_CZ]);
      let r2 = kernels[k + K_R2];
      let size = vec3<u32>(hi - lo);
      let slab = vec3<u32>(params.hi - params.lo);
      let n = size.x * size.y * size.z;
      for (var i = lid; i < n; i += WG) {
        let local = vec3<u32>(i % size.x, (i / size.x) % size.y, i / (size.x * size.y));
        let v = lo + vec3<i32>(local);
        let d = vec3<f32>(v) - c;
        let q = kernels[k + K_AXX] * d.x * d.x + kernels[k + K_AYY] * d.y * d.y + kernels[k + K_AZZ] * d.z * d.z
          + 2.0 * (kernels[k + K_AXY] * d.x * d.y + kernels[k + K_AXZ] * d.x * d.z + kernels[k + K_AYZ] * d.y * d.z);
        if (q > r2) {
          continue;
        }
        let s = vec3<u32>(v - params.lo);
        let r = residual[(s.z * slab.y + s.y) * slab.x + s.x];
        let re = r * exp(-0.5 * q);
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
  if (lid == 0u && id < params.count) {
    for (var m = 0u; m < MOMENT_STRIDE; m++) {
      moments[id * MOMENT_STRIDE + m] += partial[0][m];
    }
  }
}
