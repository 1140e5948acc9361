/** Small dense linear algebra for the fitter: symmetric 3×3 eigen-decomposition, rotation → quaternion, SPD solve. */

/** Eigen-decomposition of a symmetric 3×3 matrix (row-major, 9 entries) by cyclic Jacobi rotations. */
export function symmetricEigen3(m: ArrayLike<number>): { values: number[]; vectors: number[] } {
  const a = Array.from(m);
  const v = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 30; sweep++) {
    const off = a[1]! * a[1]! + a[2]! * a[2]! + a[5]! * a[5]!;
    if (off < 1e-30) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]] as const) {
      const apq = a[3 * p + q]!;
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (a[3 * q + q]! - a[3 * p + p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 3; k++) { // A ← Jᵀ A J
        const akp = a[3 * k + p]!, akq = a[3 * k + q]!;
        a[3 * k + p] = c * akp - s * akq;
        a[3 * k + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[3 * p + k]!, aqk = a[3 * q + k]!;
        a[3 * p + k] = c * apk - s * aqk;
        a[3 * q + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[3 * k + p]!, vkq = v[3 * k + q]!;
        v[3 * k + p] = c * vkp - s * vkq;
        v[3 * k + q] = s * vkp + c * vkq;
      }
    }
  }
  return { values: [a[0]!, a[4]!, a[8]!], vectors: v }; // eigenvector j is column j of `vectors`
}

/** Unit quaternion (w, x, y, z) of a rotation matrix (row-major); flips the last column if det < 0. */
export function rotationToQuaternion(r: number[]): [number, number, number, number] {
  const det = r[0]! * (r[4]! * r[8]! - r[5]! * r[7]!) - r[1]! * (r[3]! * r[8]! - r[5]! * r[6]!) + r[2]! * (r[3]! * r[7]! - r[4]! * r[6]!);
  const m = r.slice();
  if (det < 0) { m[2] = -m[2]!; m[5] = -m[5]!; m[8] = -m[8]!; }
  const tr = m[0]! + m[4]! + m[8]!;
  let w: number, x: number, y: number, z: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    w = s / 4; x = (m[7]! - m[5]!) / s; y = (m[2]! - m[6]!) / s; z = (m[3]! - m[1]!) / s;
  } else if (m[0]! > m[4]! && m[0]! > m[8]!) {
    const s = Math.sqrt(1 + m[0]! - m[4]! - m[8]!) * 2;
    w = (m[7]! - m[5]!) / s; x = s / 4; y = (m[1]! + m[3]!) / s; z = (m[2]! + m[6]!) / s;
  } else if (m[4]! > m[8]!) {
    const s = Math.sqrt(1 + m[4]! - m[0]! - m[8]!) * 2;
    w = (m[2]! - m[6]!) / s; x = (m[1]! + m[3]!) / s; y = s / 4; z = (m[5]! + m[7]!) / s;
  } else {
    const s = Math.sqrt(1 + m[8]! - m[0]! - m[4]!) * 2;
    w = (m[3]! - m[1]!) / s; x = (m[2]! + m[6]!) / s; y = (m[5]! + m[7]!) / s; z = s / 4;
  }
  const n = Math.hypot(w, x, y, z);
  return [w / n, x / n, y / n, z / n];
}

/** Solve (M + ridge·I) x = b for symmetric positive semi-definite M (n×n, row-major) by Cholesky. */
export function solveSpd(M: Float64Array, b: Float64Array, n: number, ridge = 1e-9): Float64Array {
  const L = new Float64Array(n * n);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += M[i * n + i]!;
  const eps = ridge * (trace / n || 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = M[i * n + j]! + (i === j ? eps : 0);
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * n + j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
    y[i] = s / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}
