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

/** Partial derivatives of the rotation matrix (row-major) with respect to unit-quaternion components, 4 × 9 into `out`. */
function rotationDerivatives(w: number, x: number, y: number, z: number, out: Float64Array): void {
  out[0] = 2 * (0); out[1] = 2 * (-z); out[2] = 2 * (y); out[3] = 2 * (z); out[4] = 2 * (0); out[5] = 2 * (-x); out[6] = 2 * (-y); out[7] = 2 * (x); out[8] = 2 * (0);
  out[9] = 2 * (0); out[10] = 2 * (y); out[11] = 2 * (z); out[12] = 2 * (y); out[13] = 2 * (-2 * x); out[14] = 2 * (-w); out[15] = 2 * (z); out[16] = 2 * (w); out[17] = 2 * (-2 * x);
  out[18] = 2 * (-2 * y); out[19] = 2 * (x); out[20] = 2 * (w); out[21] = 2 * (x); out[22] = 2 * (0); out[23] = 2 * (z); out[24] = 2 * (-w); out[25] = 2 * (z); out[26] = 2 * (-2 * y);
  out[27] = 2 * (-2 * z); out[28] = 2 * (-w); out[29] = 2 * (x); out[30] = 2 * (w); out[31] = 2 * (-2 * z); out[32] = 2 * (y); out[33] = 2 * (x); out[34] = 2 * (y); out[35] = 2 * (0);
}

// scratch of chainGradient, which runs for every Gaussian at every step
const G = new Float64Array(9), GR = new Float64Array(9), dR = new Float64Array(36), inv2 = new Float64Array(3), dq = new Float64Array(4), q = new Float64Array(4);

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
  G[0] = h * m[mo + M_EXX]!; G[1] = h * m[mo + M_EXY]!; G[2] = h * m[mo + M_EXZ]!;
  G[3] = h * m[mo + M_EXY]!; G[4] = h * m[mo + M_EYY]!; G[5] = h * m[mo + M_EYZ]!;
  G[6] = h * m[mo + M_EXZ]!; G[7] = h * m[mo + M_EYZ]!; G[8] = h * m[mo + M_EZZ]!;
  const qw = opt[g + O_ROT]!, qx = opt[g + O_ROT + 1]!, qy = opt[g + O_ROT + 2]!, qz = opt[g + O_ROT + 3]!;
  const qn = Math.hypot(qw, qx, qy, qz) || 1;
  const R = quatToRotation(qw, qx, qy, qz);
  for (let j = 0; j < 3; j++) inv2[j] = Math.exp(-2 * opt[g + O_LOGS + j]!); // 1/s²
  // GR = G·R
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    GR[3 * i + j] = G[3 * i]! * R[j]! + G[3 * i + 1]! * R[3 + j]! + G[3 * i + 2]! * R[6 + j]!;
  }
  for (let j = 0; j < 3; j++) {
    // r_jᵀ G r_j = Σ_i R_ij (G R)_ij
    const quad = R[j]! * GR[j]! + R[3 + j]! * GR[3 + j]! + R[6 + j]! * GR[6 + j]!;
    grad[g + O_LOGS + j]! += -2 * inv2[j]! * quad;
  }
  rotationDerivatives(qw / qn, qx / qn, qy / qn, qz / qn, dR);
  for (let c = 0; c < 4; c++) {
    let s = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += 2 * GR[3 * i + j]! * inv2[j]! * dR[9 * c + 3 * i + j]!;
    dq[c] = s;
  }
  q[0] = qw; q[1] = qx; q[2] = qy; q[3] = qz;
  const dot = (dq[0]! * qw + dq[1]! * qx + dq[2]! * qy + dq[3]! * qz) / qn;
  for (let c = 0; c < 4; c++) grad[g + O_ROT + c]! += (dq[c]! - dot * q[c]! / qn) / qn;
}
