/**
 * A store's continuous background (docs/vmg-zarr-codec.md § 6.2): per level one trilinear field on
 * a regular lattice of nodes, NODES per chunk axis (the chunk's corners and, between, nodes every
 * chunk/(NODES − 1) voxels), fixed by the planning pass. Every chunk stores its NODES³ nodes (the
 * codec's float16 grid, kind 3), and two neighbours hold the same nodes on their shared face, so
 * they decode the same field there: no level steps at a chunk face, whatever their Gaussians do.
 *
 * The nodes are the least-squares fit of that field to the level's background voxels: those of a
 * chunk within BACKGROUND_SIGMAS robust standard deviations (1.4826 × the median absolute deviation)
 * of its median, and at or below the gate. A plain "below the gate" would count the faint
 * structure and noise floor of a sparse volume into its background (DIADEM: 93 % of its voxels
 * are 0, and that mean of a few units lifts every dark voxel). Each chunk contributes, from its
 * voxels alone, the normal equations of its nodes (nodeStats), and the plan solves the level's
 * sparse system once (solveNodes), with a weak smoothness term so a node no background voxel sees
 * takes its neighbours' level. Node values are rounded to float16 once, there, so every job reads
 * the same nodes.
 */
import { roundToHalf } from "../core/float16.js";
import type { Shape3 } from "../core/gaussian.js";

/** Nodes per chunk axis (3: corners and mid-points, every 32 voxels of a 64³ chunk). */
export const NODES = 3;
/** Nodes of a chunk. */
export const CHUNK_NODES = NODES ** 3;
/** Floats of a chunk's statistics: the upper triangle of its normal matrix (row by row), then its right-hand sides. */
export const NODE_STATS = (CHUNK_NODES * (CHUNK_NODES + 1)) / 2 + CHUNK_NODES;

/** Index of (i, j), i ≤ j, in the upper triangle of a CHUNK_NODES² matrix stored row by row. */
const upper = (i: number, j: number) => i * CHUNK_NODES - (i * (i - 1)) / 2 + (j - i);

/** Half-width of a chunk's background window in robust standard deviations (nodeStats). */
export const BACKGROUND_SIGMAS = 2.5;
/**
 * How far below its window's voxels a chunk's background is fitted, in the same σ. The Gaussians
 * lie on the background and are mostly positive: the level that minimises a fit's error sits below
 * the noise's median (trailmap centre 128³, 200 iterations: 0 σ 39.70 dB, 0.5 σ 40.23, 0.8 σ 40.30,
 * each chunk fitting its own poly1 40.29; docs/vmg-zarr-codec.md § 6.2). A sparse volume's zero
 * background has σ = 0 and stays 0.
 */
export const BACKGROUND_BELOW = 0.8;

/** The field values a chunk's background is fitted to: [median − kσ, min(median + kσ, gate)], σ = 1.4826 · MAD. */
export function backgroundWindow(field: ArrayLike<number>, gate: number): { lo: number; hi: number; sigma: number } {
  const v = Float64Array.from(field).sort();
  const median = v[v.length >> 1]!;
  for (let i = 0; i < v.length; i++) v[i] = Math.abs(v[i]! - median);
  const sigma = 1.4826 * v.sort()[v.length >> 1]!;
  return { lo: median - BACKGROUND_SIGMAS * sigma, hi: Math.min(gate, median + BACKGROUND_SIGMAS * sigma), sigma };
}

/** Lower node and weight of the node above, at voxel j of an axis of n voxels (t = (j + ½)/n, as the codec's grid evaluates). */
function axisNode(j: number, n: number): [number, number] {
  const t = ((j + 0.5) / n) * (NODES - 1), i = Math.min(Math.floor(t), NODES - 2);
  return [i, t - i];
}

/**
 * The normal equations of a chunk's nodes: Σ w_i w_j and Σ w_i (f − BACKGROUND_BELOW·σ) over its
 * voxels whose field value f is in the chunk's backgroundWindow, w the trilinear weights of the nodes at the voxel's centre
 * (node (kz·NODES + ky)·NODES + kx; the chunk's declared shape spans the nodes). `field` holds the
 * chunk's `valid` voxels, z, y, x order. Per x-row the sums reduce to moments per x cell, so a voxel
 * costs a few additions.
 */
export function nodeStats(field: ArrayLike<number>, valid: Shape3, chunk: Shape3, gate: number): Float32Array {
  const [vz, vy, vx] = valid, { lo, hi, sigma } = backgroundWindow(field, gate), G = NODES;
  const below = BACKGROUND_BELOW * sigma;
  const a = new Float64Array(NODE_STATS), rhs = CHUNK_NODES * (CHUNK_NODES + 1) / 2;
  const xs = Array.from({ length: vx }, (_, x) => axisNode(x, chunk[2]));
  // per row: Σ w_a w_b over x for x nodes a ≤ b (tridiagonal) and Σ w_a f
  const mxx = new Float64Array(G * G), fx = new Float64Array(G);
  const yz: Array<[number, number]> = [];
  for (let z = 0, i = 0; z < vz; z++) {
    const [iz, tz] = axisNode(z, chunk[0]);
    for (let y = 0; y < vy; y++) {
      const [iy, ty] = axisNode(y, chunk[1]);
      mxx.fill(0); fx.fill(0);
      let any = false;
      for (let x = 0; x < vx; x++, i++) {
        const v = field[i]!;
        if (!(v >= lo && v <= hi)) continue;
        const f = v - below;
        const [ix, t] = xs[x]!, w0 = 1 - t;
        mxx[ix * G + ix] = mxx[ix * G + ix]! + w0 * w0;
        mxx[ix * G + ix + 1] = mxx[ix * G + ix + 1]! + w0 * t;
        mxx[(ix + 1) * G + ix + 1] = mxx[(ix + 1) * G + ix + 1]! + t * t;
        fx[ix] = fx[ix]! + w0 * f; fx[ix + 1] = fx[ix + 1]! + t * f;
        any = true;
      }
      if (!any) continue;
      // the row's (z, y) nodes: yz node index and weight
      yz.length = 0;
      for (const [dz, wz] of [[0, 1 - tz], [1, tz]] as const) for (const [dy, wy] of [[0, 1 - ty], [1, ty]] as const) yz.push([(iz + dz) * G + iy + dy, wz * wy]);
      for (const [p, wp] of yz) for (let ax = 0; ax < G; ax++) {
        const r = p * G + ax;
        a[rhs + r] = a[rhs + r]! + wp * fx[ax]!;
        for (const [q, wq] of yz) for (let bx = Math.max(0, ax - 1); bx <= Math.min(G - 1, ax + 1); bx++) {
          const c = q * G + bx;
          if (c < r) continue;
          const m = ax <= bx ? mxx[ax * G + bx]! : mxx[bx * G + ax]!;
          if (m !== 0) a[upper(r, c)] = a[upper(r, c)]! + wp * wq * m;
        }
      }
    }
  }
  return Float32Array.from(a);
}

/** Nodes per axis of a level of `grid` chunks per axis, z, y, x order (NODES − 1 cells per chunk). */
export function nodeGrid(grid: Shape3): Shape3 {
  return [grid[0] * (NODES - 1) + 1, grid[1] * (NODES - 1) + 1, grid[2] * (NODES - 1) + 1];
}

/** The level's node index of node k of chunk c. */
function levelNode(n: Shape3, c: Shape3, k: number): number {
  const G = NODES, kz = Math.floor(k / (G * G)), ky = Math.floor(k / G) % G, kx = k % G;
  return ((c[0] * (G - 1) + kz) * n[1] + c[1] * (G - 1) + ky) * n[2] + c[2] * (G - 1) + kx;
}

/** Relative weight of the smoothness term against a node's mean data weight. */
const SMOOTHNESS = 1e-3;

/**
 * The level's node values from its chunks' nodeStats (C order; undefined: a chunk with no
 * statistics), rounded to float16: the least-squares trilinear field plus SMOOTHNESS × the mean
 * data weight × Σ (n_i − n_j)² over neighbouring nodes (and a vanishing pull to 0, so a level with
 * no voxel in its windows still has one solution). Solved by conjugate gradients with a Jacobi
 * preconditioner in a fixed order: every run gets the same nodes.
 */
export function solveNodes(grid: Shape3, stats: ReadonlyArray<Float32Array | undefined>): Float64Array {
  const n = nodeGrid(grid), N = n[0] * n[1] * n[2], rhs = CHUNK_NODES * (CHUNK_NODES + 1) / 2;
  // the matrix as 27 bands: A[27 i + o], o the neighbour's offset ((dz+1)·3 + dy+1)·3 + dx+1 (trilinear nodes couple only within a cell)
  const A = new Float64Array(27 * N), b = new Float64Array(N);
  const coords = (i: number) => [Math.floor(i / (n[1] * n[2])), Math.floor(i / n[2]) % n[1], i % n[2]];
  const band = (i: number, j: number) => {
    const p = coords(i), q = coords(j);
    return 27 * i + ((q[0]! - p[0]! + 1) * 3 + q[1]! - p[1]! + 1) * 3 + q[2]! - p[2]! + 1;
  };
  let c = 0;
  for (let cz = 0; cz < grid[0]; cz++) for (let cy = 0; cy < grid[1]; cy++) for (let cx = 0; cx < grid[2]; cx++, c++) {
    const s = stats[c];
    if (!s) continue;
    const nodes = Array.from({ length: CHUNK_NODES }, (_, k) => levelNode(n, [cz, cy, cx], k));
    for (let i = 0; i < CHUNK_NODES; i++) {
      b[nodes[i]!] = b[nodes[i]!]! + s[rhs + i]!;
      for (let j = i; j < CHUNK_NODES; j++) {
        const v = s[upper(i, j)]!;
        if (v === 0) continue;
        A[band(nodes[i]!, nodes[j]!)] = A[band(nodes[i]!, nodes[j]!)]! + v;
        if (j !== i) A[band(nodes[j]!, nodes[i]!)] = A[band(nodes[j]!, nodes[i]!)]! + v;
      }
    }
  }
  let diag = 0;
  for (let i = 0; i < N; i++) diag += A[27 * i + 13]!;
  const lambda = SMOOTHNESS * Math.max(diag / N, 1e-30), ridge = 1e-9 * lambda;
  for (let i = 0; i < N; i++) {
    A[27 * i + 13] = A[27 * i + 13]! + ridge;
    const [z, y, x] = coords(i);
    for (const [dz, dy, dx] of [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as const) {
      if (z! + dz >= n[0] || y! + dy >= n[1] || x! + dx >= n[2]) continue;
      const j = i + (dz * n[1] + dy) * n[2] + dx;
      A[27 * i + 13] = A[27 * i + 13]! + lambda; A[27 * j + 13] = A[27 * j + 13]! + lambda;
      A[band(i, j)] = A[band(i, j)]! - lambda; A[band(j, i)] = A[band(j, i)]! - lambda;
    }
  }
  return conjugateGradients(A, b, n).map(roundToHalf);
}

/** Solves the banded SPD system (A as solveNodes lays it out) to a relative residual of 1e-10. */
function conjugateGradients(A: Float64Array, b: Float64Array, n: Shape3): Float64Array {
  const N = b.length, x = new Float64Array(N), r = Float64Array.from(b), z = new Float64Array(N), p = new Float64Array(N), Ap = new Float64Array(N);
  const sz = n[1] * n[2], sy = n[2];
  const multiply = (v: Float64Array, out: Float64Array) => {
    for (let i = 0; i < N; i++) {
      const iz = Math.floor(i / sz), iy = Math.floor(i / sy) % n[1], ix = i % n[2];
      let s = 0;
      for (let o = 0; o < 27; o++) {
        const a = A[27 * i + o]!;
        if (a === 0) continue;
        const dz = Math.floor(o / 9) - 1, dy = (Math.floor(o / 3) % 3) - 1, dx = (o % 3) - 1;
        if (iz + dz < 0 || iy + dy < 0 || ix + dx < 0 || iz + dz >= n[0] || iy + dy >= n[1] || ix + dx >= n[2]) continue;
        s += a * v[i + dz * sz + dy * sy + dx]!;
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

/** The NODES³ nodes of chunk c (z, y, x order, x fastest) from its level's nodes. */
export function chunkNodes(nodes: ArrayLike<number>, grid: Shape3, c: Shape3): number[] {
  const n = nodeGrid(grid);
  return Array.from({ length: CHUNK_NODES }, (_, k) => nodes[levelNode(n, c, k)]!);
}

/** The chunk's field (its nodes' trilinear interpolation) at chunk coordinates t (z, y, x; 0 and 1: its faces), extended linearly past them. */
function fieldAt(nodes: ArrayLike<number>, t: number[]): number {
  const G = NODES, cell = t.map((v) => Math.min(Math.max(Math.floor(v * (G - 1)), 0), G - 2)), w = t.map((v, a) => v * (G - 1) - cell[a]!);
  let s = 0;
  for (let m = 0; m < 8; m++) {
    const bits = [m >> 2, (m >> 1) & 1, m & 1];
    const k = ((cell[0]! + bits[0]!) * G + cell[1]! + bits[1]!) * G + cell[2]! + bits[2]!;
    s += bits.reduce((p, bit, a) => p * (bit ? w[a]! : 1 - w[a]!), 1) * nodes[k]!;
  }
  return s;
}

/**
 * The chunk's field as a grid over its fit's block: `offset` is the block's voxel index [z, y, x]
 * of the chunk's voxel 0 and `shape` its extent. Without a halo (the block is the chunk's voxels
 * inside the level) it is the chunk's own field exactly (the block's nodes, spread evenly over it,
 * at the chunk's node spacing in each cell, are the field's values there only where the block is
 * the chunk: else the nodes are the field sampled at the block's own lattice, and the halo sees
 * the chunk's field extended linearly).
 */
export function nodesOver(nodes: ArrayLike<number>, chunk: Shape3, offset: Shape3, shape: Shape3): { dims: [number, number, number]; params: Float64Array } {
  const G = NODES;
  const at = (k: number, a: number) => (-offset[a]! + (k / (G - 1)) * shape[a]!) / chunk[a]!;
  const params = new Float64Array(CHUNK_NODES);
  for (let kz = 0, i = 0; kz < G; kz++) for (let ky = 0; ky < G; ky++) for (let kx = 0; kx < G; kx++, i++) params[i] = fieldAt(nodes, [at(kz, 0), at(ky, 1), at(kx, 2)]);
  return { dims: [G, G, G], params };
}
