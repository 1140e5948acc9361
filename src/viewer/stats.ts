/**
 * Main-thread record of how chunks were decoded, fed by the worker's per-chunk reports: which
 * path each file uses, why, and how long chunks take. The layer tab shows it; tests and the
 * viewer benchmark read it through `window.volmicro`.
 */
import { registerRPC } from "neuroglancer/unstable/worker_rpc.js";
import { NullarySignal } from "neuroglancer/unstable/util/signal.js";
import { VMG_DECODE_REPORT_RPC_ID, type ChunkDecodeReport, type DecodePath } from "./base.js";
import { shownSources } from "./shown-records.js";

const KEEP = 2000; // timings kept per file and path

export interface FileDecodeStats {
  chunks: Record<DecodePath, number>;
  /** Recent per-chunk milliseconds by path (newest last). */
  ms: Record<DecodePath, number[]>;
  lastPath: DecodePath;
  lastReason: string;
  /** performance.now() of the last report. */
  updated: number;
  /** Recent reports (newest last), for per-level and per-size figures. */
  reports: ChunkDecodeReport[];
}

export const decodeStats = new Map<string, FileDecodeStats>();
export const decodeStatsChanged = new NullarySignal();

export function recordDecode(r: ChunkDecodeReport): void {
  let s = decodeStats.get(r.url);
  if (!s) {
    if (!shownSources.has(r.url)) return; // decoded after its layer went
    s = { chunks: { cpu: 0, webgpu: 0 }, ms: { cpu: [], webgpu: [] }, lastPath: r.path, lastReason: r.reason, updated: 0, reports: [] };
    decodeStats.set(r.url, s);
  }
  s.chunks[r.path]++;
  const ms = s.ms[r.path];
  ms.push(r.ms);
  if (ms.length > KEEP) ms.splice(0, ms.length - KEEP);
  s.reports.push(r);
  if (s.reports.length > KEEP) s.reports.splice(0, s.reports.length - KEEP);
  s.lastPath = r.path;
  s.lastReason = r.reason;
  s.updated = performance.now();
  decodeStatsChanged.dispatch();
}

/**
 * The stats of every source whose URL starts with `prefix` (a store's level arrays) as one: counts
 * and timings summed, the path and reason of the latest report.
 */
export function decodeStatsUnder(prefix: string): FileDecodeStats | undefined {
  let merged: FileDecodeStats | undefined;
  for (const [url, s] of decodeStats) {
    if (!url.startsWith(prefix)) continue;
    if (!merged) { merged = { ...s, chunks: { ...s.chunks }, ms: { cpu: [...s.ms.cpu], webgpu: [...s.ms.webgpu] }, reports: [] }; continue; }
    merged.chunks.cpu += s.chunks.cpu;
    merged.chunks.webgpu += s.chunks.webgpu;
    merged.ms.cpu.push(...s.ms.cpu);
    merged.ms.webgpu.push(...s.ms.webgpu);
    if (s.updated > merged.updated) Object.assign(merged, { lastPath: s.lastPath, lastReason: s.lastReason, updated: s.updated });
  }
  return merged;
}

registerRPC(VMG_DECODE_REPORT_RPC_ID, (x: ChunkDecodeReport) => recordDecode(x));
