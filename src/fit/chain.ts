/**
 * Kernel moments (gradient.ts) → gradients of the optimiser's parameters (params.ts).
 * A = Σ⁻¹ = R·diag(1/s²)·Rᵀ, so with G = dL/dA (symmetric):
 *   dL/dlog s_k = −2/s_k² · r_kᵀ G r_k         (r_k: column k of R)
 *   dL/dR       = 2·G·R·diag(1/s²)
 * and dL/dq follows through R(q/|q|), projected onto the tangent of the unit sphere.
 */
import { K_AMP, K_AXX, K_AXY, K_AXZ, K_AYY, K_AYZ, K_AZZ, K_R2 } from "../core/constants.js";
import { quatToRotation } from "../core/gaussian.js";
import { M_E, M_EX, M_EXX, M_EXY, M_EXZ, M_EY, M_EYY, M_EYZ, M_EZ, M_EZZ, M_R } from "./gradient.js";
import { O_AMP, O_LOGS, O_POS, O_ROT } from "./params.js";

/** Partial derivatives of the rotation matrix (row-major) with respect to unit-quaternion components. */
function rotationDerivatives(w: number, x: number, y: number, z: number): number[][] {
  return [
    [0, -z, y, z, 0, -x, -y, x, 0],
    [0, y, z, y, -2 * x, -w, z, w, -2 * x],
    [-2 * y, x, w, x, 0, z, -w, z, -2 * y],
    [-2 * z, -w, x, w, -2 * z, y, x, y, 0],
  ].map((m) => m.map((v) => 2 * v));
}

/**
 * Add the gradient of one Gaussian to `grad` (OPT_STRIDE layout at `g`), from its moments `m` at
 * `mo`, its prepared kernel `k` at `ko` and its optimiser parameters `opt` at `g`.
 */
export function chainGradient(
  m: Float64Array, mo: number, k: Float64Array, ko: number, opt: Float64Array, grad: Float64Array, g: number,
): void {
  const K = k[ko + K_AMP]!;
  const f0 = Math.exp(-0.5 * k[ko + K_R2]!);
  const se = m[mo + M_E]!;
  grad[g + O_AMP]! += (se - f0 * m[mo + M_R]!) / (1 - f0);
  const axx = k[ko + K_AXX]!, axy = k[ko + K_AXY]!, axz = k[ko + K_AXZ]!, ayy = k[ko + K_AYY]!, ayz = k[ko + K_AYZ]!, azz = k[ko + K_AZZ]!;
  const ex = m[mo + M_EX]!, ey = m[mo + M_EY]!, ez = m[mo + M_EZ]!;
  grad[g + O_POS]! += K * (axx * ex + axy * ey + axz * ez);
  grad[g + O_POS + 1]! += K * (axy * ex + ayy * ey + ayz * ez);
  grad[g + O_POS + 2]! += K * (axz * ex + ayz * ey + azz * ez);
  // G = dL/dA as a full symmetric matrix
  const h = -0.5 * K;
  const G = [
    h * m[mo + M_EXX]!, h * m[mo + M_EXY]!, h * m[mo + M_EXZ]!,
    h * m[mo + M_EXY]!, h * m[mo + M_EYY]!, h * m[mo + M_EYZ]!,
    h * m[mo + M_EXZ]!, h * m[mo + M_EYZ]!, h * m[mo + M_EZZ]!,
  ];
  const qw = opt[g + O_ROT]!, qx = opt[g + O_ROT + 1]!, qy = opt[g + O_ROT + 2]!, qz = opt[g + O_ROT + 3]!;
  const qn = Math.hypot(qw, qx, qy, qz) || 1;
  const R = quatToRotation(qw, qx, qy, qz);
  const inv2 = [0, 1, 2].map((j) => Math.exp(-2 * opt[g + O_LOGS + j]!)); // 1/s²
  // GR = G·R
  const GR = new Array<number>(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    GR[3 * i + j] = G[3 * i]! * R[j]! + G[3 * i + 1]! * R[3 + j]! + G[3 * i + 2]! * R[6 + j]!;
  }
  for (let j = 0; j < 3; j++) {
    // r_jᵀ G r_j = Σ_i R_ij (G R)_ij
    const quad = R[j]! * GR[j]! + R[3 + j]! * GR[3 + j]! + R[6 + j]! * GR[6 + j]!;
    grad[g + O_LOGS + j]! += -2 * inv2[j]! * quad;
  }
  const dR = rotationDerivatives(qw / qn, qx / qn, qy / qn, qz / qn);
  const dq = [0, 0, 0, 0];
  for (let c = 0; c < 4; c++) {
    let s = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += 2 * GR[3 * i + j]! * inv2[j]! * dR[c]![3 * i + j]!;
    dq[c] = s;
  }
  const dot = (dq[0]! * qw + dq[1]! * qx + dq[2]! * qy + dq[3]! * qz) / qn;
  for (let c = 0; c < 4; c++) grad[g + O_ROT + c]! += (dq[c]! - dot * [qw, qx, qy, qz][c]! / qn) / qn;
}
