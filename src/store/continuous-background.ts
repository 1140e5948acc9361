/**
 * A store's continuous background (docs/vmg-zarr-codec.md § 6.2): per level one trilinear field
 * whose nodes sit at the chunks' corners, fixed by the planning pass, so that every chunk stores
 * its 8 corners (the codec's compact 2×2×2 grid, kind 3) and two neighbours decode the same values
 * on their shared face: no level steps at a chunk face, whatever each chunk's Gaussians do.
 *
 * The nodes are the least-squares fit of that field to the level's background voxels: those of a
 * chunk within BACKGROUND_SIGMAS robust standard deviations (1.4826 × the median absolute deviation)
 * of its median, and at or below the gate. A plain "below the gate" would count the faint
 * structure and noise floor of a sparse volume into its background (DIADEM: 93 % of its voxels
 * are 0, and that mean of a few units lifts every dark voxel). Each chunk contributes, from its voxels alone,
 * the normal equations of its 8 corners (cornerStats), and the plan solves the level's sparse
 * system once (solveNodes), with a weak smoothness term so a node no background voxel sees takes
 * its neighbours' level. Node values are rounded to float16 once, there, so every job reads the
 * same corners.
 */
import { roundToHalf } from "../core/float16.js";
import type { Shape3 } from "../core/gaussian.js";

/** Floats of a chunk's statistics: the upper triangle of its 8×8 normal matrix (row by row), then the 8 right-hand sides. */
export const CORNER_STATS = 36 + 8;

/** Index of (i, j), i ≤ j, in the upper triangle of an 8×8 matrix stored row by row. */
const upper = (i: number, j: number) => i * 8 - (i * (i - 1)) / 2 + (j - i);

/** Half-width of a chunk's background window in robust standard deviations (cornerStats). */
export const BACKGROUND_SIGMAS = 2.5;

/** The field values a chunk's background is fitted to: [median − kσ, min(median + kσ, gate)], σ = 1.4826 · MAD. */
export function backgroundWindow(field: ArrayLike<number>, gate: number): { lo: number; hi: number } {
  const v = Float64Array.from(field).sort();
  const median = v[v.length >> 1]!;
  for (let i = 0; i < v.length; i++) v[i] = Math.abs(v[i]! - median);
  const sigma = 1.4826 * v.sort()[v.length >> 1]!;
  return { lo: median - BACKGROUND_SIGMAS * sigma, hi: Math.min(gate, median + BACKGROUND_SIGMAS * sigma) };
}

/**
 * The normal equations of a chunk's corners: Σ w_i w_j and Σ w_i f over its voxels whose field
 * value f is in the chunk's backgroundWindow, w the trilinear weights of the corners at the voxel's centre
 * (corner k = (kz·2 + ky)·2 + kx, t = (j + ½)/n along an axis of the chunk's declared n voxels, as
 * the codec's grid background evaluates). `field` holds the chunk's `valid` voxels, z, y, x order.
 * Per x-row the sums reduce to five moments of t and f, so a voxel costs a few additions.
 */
export function cornerStats(field: ArrayLike<number>, valid: Shape3, chunk: Shape3, gate: number): Float32Array {
  const [vz, vy, vx] = valid, { lo, hi } = backgroundWindow(field, gate);
  const a = new Float64Array(CORNER_STATS);
  const tx = Float64Array.from({ length: vx }, (_, x) => (x + 0.5) / chunk[2]);
  const q = new Float64Array(4);
  for (let z = 0, i = 0; z < vz; z++) {
    const tz = (z + 0.5) / chunk[0];
    for (let y = 0; y < vy; y++) {
      const ty = (y + 0.5) / chunk[1];
      let s0 = 0, s1 = 0, s2 = 0, f0 = 0, f1 = 0;
      for (let x = 0; x < vx; x++, i++) {
        const f = field[i]!;
        if (!(f >= lo && f <= hi)) continue;
        const t = tx[x]!;
        s0++; s1 += t; s2 += t * t; f0 += f; f1 += t * f;
      }
      if (s0 === 0) continue;
      // x moments: Σ w0w0, w0w1, w1w1 and Σ w0 f, w1 f with w0 = 1 − t, w1 = t
      const mx = [s0 - 2 * s1 + s2, s1 - s2, s2], fx = [f0 - f1, f1];
      q[0] = (1 - tz) * (1 - ty); q[1] = (1 - tz) * ty; q[2] = tz * (1 - ty); q[3] = tz * ty;
      for (let p = 0; p < 4; p++) for (let bx = 0; bx < 2; bx++) {
        const r = 2 * p + bx;
        a[36 + r] = a[36 + r]! + q[p]! * fx[bx]!;
        for (let s = p; s < 4; s++) for (let cx = s === p ? bx : 0; cx < 2; cx++) {
          const k = upper(r, 2 * s + cx);
          a[k] = a[k]! + q[p]! * q[s]! * mx[bx + cx]!;
        }
      }
    }
  }
  return Float32Array.from(a);
}

/** Nodes of a level of `grid` chunks per axis: one more than its chunks per axis, z, y, x order, x fastest. */
export function nodeGrid(grid: Shape3): Shape3 {
  return [grid[0] + 1, grid[1] + 1, grid[2] + 1];
}

/** The node index of corner k of chunk c. */
function cornerNode(n: Shape3, c: Shape3, k: number): number {
  return ((c[0] + (k >> 2)) * n[1] + c[1] + ((k >> 1) & 1)) * n[2] + c[2] + (k & 1);
}

/** Relative weight of the smoothness term (a node's data weight is ~n³/27 for a chunk of n³ voxels around it). */
const SMOOTHNESS = 1e-3;

/**
 * The level's node values from its chunks' cornerStats (C order; undefined: a chunk with no
 * statistics), rounded to float16: the least-squares trilinear field plus SMOOTHNESS × the mean
 * data weight × Σ (n_i − n_j)² over neighbouring nodes (and a vanishing pull to 0, so a level
 * with no voxel at or below the gate still has one solution). Solved by conjugate gradients with
 * a Jacobi preconditioner in a fixed order: every run gets the same nodes.
 */
export function solveNodes(grid: Shape3, stats: ReadonlyArray<Float32Array | undefined>): Float64Array {
  const n = nodeGrid(grid), N = n[0] * n[1] * n[2];
  // the matrix as 27 bands: A[i][27 i + o], o the neighbour's offset ((dz+1)·3 + dy+1)·3 + dx+1
  const A = new Float64Array(27 * N), b = new Float64Array(N);
  const off = (i: number, j: number) => {
    const d = [Math.floor(j / (n[1] * n[2])) - Math.floor(i / (n[1] * n[2])), (Math.floor(j / n[2]) % n[1]) - (Math.floor(i / n[2]) % n[1]), (j % n[2]) - (i % n[2])];
    return 27 * i + ((d[0]! + 1) * 3 + d[1]! + 1) * 3 + d[2]! + 1;
  };
  let c = 0;
  for (let cz = 0; cz < grid[0]; cz++) for (let cy = 0; cy < grid[1]; cy++) for (let cx = 0; cx < grid[2]; cx++, c++) {
    const s = stats[c];
    if (!s) continue;
    const nodes = Array.from({ length: 8 }, (_, k) => cornerNode(n, [cz, cy, cx], k));
    for (let i = 0; i < 8; i++) {
      b[nodes[i]!] = b[nodes[i]!]! + s[36 + i]!;
      for (let j = 0; j < 8; j++) A[off(nodes[i]!, nodes[j]!)]! += s[upper(Math.min(i, j), Math.max(i, j))]!;
    }
  }
  let diag = 0;
  for (let i = 0; i < N; i++) diag += A[27 * i + 13]!;
  const lambda = SMOOTHNESS * Math.max(diag / N, 1e-30), ridge = 1e-9 * lambda;
  for (let i = 0; i < N; i++) {
    A[27 * i + 13]! += ridge;
    const z = Math.floor(i / (n[1] * n[2])), y = Math.floor(i / n[2]) % n[1], x = i % n[2];
    for (const [dz, dy, dx] of [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as const) {
      if (z + dz >= n[0] || y + dy >= n[1] || x + dx >= n[2]) continue;
      const j = i + (dz * n[1] + dy) * n[2] + dx;
      A[27 * i + 13]! += lambda; A[27 * j + 13]! += lambda;
      A[off(i, j)]! -= lambda; A[off(j, i)]! -= lambda;
    }
  }
  return conjugateGradients(A, b, n).map(roundToHalf);
}

/** Solves the banded SPD system (A as solveNodes lays it out) to a relative residual of 1e-10. */
function conjugateGradients(A: Float64Array, b: Float64Array, n: Shape3): Float64Array {
  const N = b.length, x = new Float64Array(N), r = Float64Array.from(b), z = new Float64Array(N), p = new Float64Array(N), Ap = new Float64Array(N);
  const strides = [n[1] * n[2], n[2], 1];
  const multiply = (v: Float64Array, out: Float64Array) => {
    for (let i = 0; i < N; i++) {
      const iz = Math.floor(i / strides[0]!), iy = Math.floor(i / n[2]) % n[1], ix = i % n[2];
      let s = 0;
      for (let o = 0; o < 27; o++) {
        const a = A[27 * i + o]!;
        if (a === 0) continue;
        const dz = Math.floor(o / 9) - 1, dy = (Math.floor(o / 3) % 3) - 1, dx = (o % 3) - 1;
        if (iz + dz < 0 || iy + dy < 0 || ix + dx < 0 || iz + dz >= n[0] || iy + dy >= n[1] || ix + dx >= n[2]) continue;
        s += a * v[i + dz * strides[0]! + dy * strides[1]! + dx]!;
      }
      out[i] = s;
    }
  };
  const precondition = () => { for (let i = 0; i < N; i++) z[i] = r[i]! / A[27 * i + 13]!; };
  const dot = (u: Float64Array, v: Float64Array) => { let s = 0; for (let i = 0; i < N; i++) s += u[i]! * v[i]!; return s; };
  const bNorm = Math.sqrt(dot(b, b));
  if (bNorm === 0) return x;
  precondition();
  p.set(z);
  let rz = dot(r, z);
  for (let it = 0; it < 10 * N + 100 && Math.sqrt(dot(r, r)) > 1e-10 * bNorm; it++) {
    multiply(p, Ap);
    const alpha = rz / dot(p, Ap);
    for (let i = 0; i < N; i++) { x[i] = x[i]! + alpha * p[i]!; r[i] = r[i]! - alpha * Ap[i]!; }
    precondition();
    const next = dot(r, z);
    for (let i = 0; i < N; i++) p[i] = z[i]! + (next / rz) * p[i]!;
    rz = next;
  }
  return x;
}

/** The 8 corners of chunk c (z, y, x order, x fastest) from its level's nodes. */
export function chunkCorners(nodes: ArrayLike<number>, grid: Shape3, c: Shape3): number[] {
  const n = nodeGrid(grid);
  return Array.from({ length: 8 }, (_, k) => nodes[cornerNode(n, c, k)]!);
}

/**
 * The same trilinear field as a 2×2×2 grid over another box of the chunk's axes: `offset` is the
 * box's voxel index [z, y, x] of the chunk's voxel 0 and `shape` its extent (a fit's block, which
 * may hold a halo beyond the chunk: there the chunk's field is extended linearly). Each corner is
 * the field at the box's outer corner, so the box's grid evaluates the chunk's field at every voxel.
 */
export function cornersOver(corners: ArrayLike<number>, chunk: Shape3, offset: Shape3, shape: Shape3): Float64Array {
  const t = [0, 1, 2].map((a) => [-offset[a]! / chunk[a]!, (shape[a]! - offset[a]!) / chunk[a]!]);
  return Float64Array.from({ length: 8 }, (_, k) => {
    const at = [t[0]![k >> 2]!, t[1]![(k >> 1) & 1]!, t[2]![k & 1]!];
    let v = 0;
    for (let m = 0; m < 8; m++) {
      const w = [m >> 2, (m >> 1) & 1, m & 1].reduce((p, bit, a) => p * (bit ? at[a]! : 1 - at[a]!), 1);
      v += w * corners[m]!;
    }
    return v;
  });
}
