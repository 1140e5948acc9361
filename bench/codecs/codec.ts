/**
 * The interface every rate-distortion contender implements, and what they share: a scratch
 * directory, running a command, installing Debian packages, the small side-information header
 * that every classical stream carries (counted in its bytes), and the search on a quality knob.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DTYPES, dtypeFromCode, type DType, type VoxelArray } from "../../src/core/dtype.js";
import type { Shape3 } from "../../src/core/gaussian.js";
import type { Volume } from "../../src/core/volume.js";

export interface Encoded {
  /** Every byte a decoder needs: payload, headers and side information. */
  stream: Uint8Array;
  bytes: number;
  /** Seconds of the final encode (at the knob the search chose). */
  seconds: number;
  /** Seconds of the whole search, final encode included. */
  searchSeconds?: number;
  /** The knob setting that produced the stream, e.g. "crf=27.3". */
  knob?: string;
  /** Anything a reader of the table must know (e.g. "cannot spend the budget"). */
  note?: string;
}

export interface Decoded {
  data: VoxelArray;
  seconds: number;
}

export interface Codec {
  /** Row name in rd.json. */
  name: string;
  /** What the table shows. */
  label: string;
  /** Lossless codecs ignore the budget and produce one row per volume. */
  lossless?: boolean;
  /** true, or why not (a missing command, package or input). */
  available(): Promise<true | string>;
  /** Debian packages it needs (installed by `bench:rd` when missing, never by `npm test`). */
  aptPackages?: string[];
  install?(): Promise<void>;
  /** The largest stream not exceeding `targetBytes`, or null when no setting gets under it. */
  encode(volume: Volume, targetBytes: number): Promise<Encoded | null>;
  decode(stream: Uint8Array): Promise<Decoded>;
}

// ---------------------------------------------------------------------------------------------

export function scratchDir(tag: string): { dir: string; path: (name: string) => string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `volmicro-rd-${tag}-`));
  return { dir, path: (name) => join(dir, name), done: () => rmSync(dir, { recursive: true, force: true }) };
}

export function hasCommand(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** Run a command; reject with its stderr tail when it fails. Resolves to stdout. */
export function run(cmd: string, args: string[], opts: { input?: Uint8Array; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env });
    const out: Buffer[] = [], err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${Buffer.concat(err).toString().slice(-800)}`));
    });
    if (opts.input) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

let aptUpdated = false;
/** apt-get install the packages that are not installed yet (the benchmark says so on stderr). */
export async function aptInstall(packages: string[]): Promise<void> {
  const missing = packages.filter((p) => spawnSync("dpkg-query", ["-W", "-f=${Status}", p], { encoding: "utf8" }).stdout?.includes("install ok installed") !== true);
  if (missing.length === 0) return;
  process.stderr.write(`bench:rd: installing Debian packages ${missing.join(" ")} (apt-get)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  for (let attempt = 0; ; attempt++) {
    try {
      if (!aptUpdated) { await run("apt-get", ["update", ...lock], { env }); aptUpdated = true; }
      await run("apt-get", ["install", "-y", "--no-install-recommends", ...lock, ...missing], { env });
      return;
    } catch (e) {
      if (attempt >= 2) throw e;
      await new Promise((r) => setTimeout(r, 5000)); // another job may hold the lock briefly
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Side information: dtype (1 byte), shape (3 × uint32), then codec-specific float64s (e.g. the
// value range a 12-bit mapping needs). It is part of every stream and so of every byte count.

export function packStream(dtype: DType, shape: Shape3, side: number[], payload: Uint8Array): Uint8Array {
  const head = 1 + 12 + 1 + 8 * side.length;
  const out = new Uint8Array(head + payload.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, DTYPES[dtype].code);
  shape.forEach((n, i) => v.setUint32(1 + 4 * i, n, true));
  v.setUint8(13, side.length);
  side.forEach((s, i) => v.setFloat64(14 + 8 * i, s, true));
  out.set(payload, head);
  return out;
}

export function unpackStream(stream: Uint8Array): { dtype: DType; shape: Shape3; side: number[]; payload: Uint8Array } {
  const v = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const dtype = dtypeFromCode(v.getUint8(0));
  if (!dtype) throw new Error("bad stream: unknown dtype code");
  const shape: Shape3 = [v.getUint32(1, true), v.getUint32(5, true), v.getUint32(9, true)];
  const k = v.getUint8(13);
  const side = Array.from({ length: k }, (_, i) => v.getFloat64(14 + 8 * i, true));
  return { dtype, shape, side, payload: stream.subarray(14 + 8 * k) };
}

export function sideBytes(sideCount: number): number {
  return 14 + 8 * sideCount;
}

/** Concatenate parts with uint32 length prefixes (counted: 4 bytes per part). */
export function joinParts(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + 4 + p.length, 0));
  const v = new DataView(out.buffer);
  let o = 0;
  for (const p of parts) { v.setUint32(o, p.length, true); out.set(p, o + 4); o += 4 + p.length; }
  return out;
}

export function splitParts(b: Uint8Array): Uint8Array[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const parts: Uint8Array[] = [];
  for (let o = 0; o < b.length;) { const n = v.getUint32(o, true); parts.push(b.subarray(o + 4, o + 4 + n)); o += 4 + n; }
  return parts;
}

// ---------------------------------------------------------------------------------------------

export function valueRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) { const x = data[i]!; if (x < lo) lo = x; if (x > hi) hi = x; }
  return [lo, hi];
}

/** Round and clamp values into the dtype. */
export function toDType(dtype: DType, values: ArrayLike<number>, n = values.length): VoxelArray {
  const out = DTYPES[dtype].make(n);
  const { min, max, integer } = DTYPES[dtype];
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    out[i] = integer ? Math.min(max, Math.max(min, Math.round(x))) : x;
  }
  return out;
}

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The note for a search that ended at its highest-quality setting under the budget. */
export function limitNote(found: { atLimit: boolean; best: { bytes: number } }, target: number, setting: string): { note?: string } {
  return found.atLimit ? { note: `cannot spend the budget: ${(100 * found.best.bytes / target).toFixed(0)} % of it at ${setting}` } : {};
}

export function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/**
 * Search a quality knob for the largest stream not exceeding `target` bytes. The stream size must
 * fall as the knob rises (CRF, distance, tolerance) — pass `rising: true` when it grows instead
 * (rate). Keeps a bracket [fits, overshoots] and interpolates log(bytes) linearly in the knob (in
 * log space when `log`), clamped to the bracket's inner 80 % so it always shrinks; at most `steps`
 * encodes after the two ends, integers when `integer`; stops once a fitting stream is within
 * `tolerance` (default 1 %) of the target. Returns null when even the smallest setting overshoots.
 */
export async function searchKnob<T extends { bytes: number }>(o: {
  lo: number; hi: number; steps: number; target: number; rising?: boolean; log?: boolean; integer?: boolean; tolerance?: number;
  encode: (knob: number) => Promise<T>;
}): Promise<{ best: T; knob: number; evaluations: number; atLimit: boolean } | null> {
  const fwd = (x: number) => (o.log ? Math.log(x) : x), inv = (x: number) => (o.log ? Math.exp(x) : x);
  const cache = new Map<number, T>();
  let evaluations = 0;
  const at = async (k: number) => {
    let r = cache.get(k);
    if (!r) { r = await o.encode(k); cache.set(k, r); evaluations++; }
    return r;
  };
  // "small" end = the setting with the smallest stream
  const small = o.rising ? o.lo : o.hi, large = o.rising ? o.hi : o.lo;
  const sm = await at(small);
  if (sm.bytes > o.target) return null;
  const lg = await at(large);
  if (lg.bytes <= o.target) return { best: lg, knob: large, evaluations, atLimit: true };
  let good = small, bad = large; // good fits, bad overshoots
  const tol = o.tolerance ?? 0.01;
  for (let i = 0; i < o.steps; i++) {
    const g = cache.get(good)!, b = cache.get(bad)!;
    if (g.bytes >= (1 - tol) * o.target) break;
    const fg = fwd(good), fb = fwd(bad);
    const lgB = Math.log(Math.max(1, g.bytes)), lbB = Math.log(Math.max(1, b.bytes)), lt = Math.log(o.target);
    let f = lbB > lgB ? (lt - lgB) / (lbB - lgB) : 0.5;
    f = Math.min(0.9, Math.max(0.1, f));
    let mid = inv(fg + f * (fb - fg));
    if (o.integer) {
      mid = Math.round(mid);
      if (mid === good || mid === bad) mid = good + Math.sign(bad - good);
      if (mid === bad) break;
    }
    const r = await at(mid);
    if (r.bytes <= o.target) good = mid; else bad = mid;
  }
  return { best: (await at(good)), knob: good, evaluations, atLimit: false };
}
