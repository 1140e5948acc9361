/**
 * The timeline of one traced first-frame run (bench/store-browser.ts, `firstFrame(…, trace)`),
 * read from its Chromium trace: every request of the store (from the page and from its workers,
 * with its method, bytes and times), the async-computation pool's workers (when each started and
 * had its script evaluated), the chunk decodes (the codec's `volmicro.gaussians decode` user
 * timing measures; for a gzip store, Chromium's DecompressionStream inflates) and the ready frame.
 * Times are milliseconds from the moment the layer was added (RUN_MARKS.start).
 */
import { DECODE_MEASURE } from "../src/viewer/gaussian-codec.js";
import { RUN_MARKS } from "./store-browser.js";

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: string;
  id2?: { local?: string; global?: string };
  args?: { name?: string; data?: Record<string, unknown> };
}

export interface Request { url: string; method: string; start: number; response: number; end: number; bytes: number; thread: string }

export interface Span { start: number; end: number }

export interface Timeline {
  ready: number;
  /** Requests under `prefix`, by start time. */
  requests: Request[];
  /** Each async-computation worker started during the run: its first task and the end of its script's evaluation. */
  poolWorkers: Array<{ start: number; scriptEvaluated: number }>;
  /** Chunk decodes (the codec's measures, or gzip inflates), by start time. */
  decodes: Span[];
}

export function readTimeline(trace: Uint8Array, prefix: string): Timeline {
  const json = JSON.parse(new TextDecoder().decode(trace)) as { traceEvents: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(json) ? json : json.traceEvents;
  const mark = (name: string) => events.find((e) => e.name === name && e.cat?.includes("blink.user_timing"));
  const start = mark(RUN_MARKS.start), ready = mark(RUN_MARKS.ready);
  if (!start || !ready) throw new Error("trace: the run's user timing marks are missing");
  const pid = start.pid;
  const at = (ts: number) => (ts - start.ts) / 1000;
  const threads = new Map<number, string>();
  for (const e of events) if (e.pid === pid && e.name === "thread_name" && e.args?.name) threads.set(e.tid, e.args.name);

  const byId = new Map<string, Partial<Request> & { id: string }>();
  for (const e of events) {
    if (e.pid !== pid) continue;
    const d = e.args?.data ?? {};
    const id = d["requestId"] as string | undefined;
    if (id === undefined) continue;
    const r = byId.get(id) ?? { id };
    byId.set(id, r);
    if (e.name === "ResourceSendRequest") Object.assign(r, { url: d["url"] as string, method: (d["requestMethod"] as string | undefined) ?? "GET", start: at(e.ts), thread: threads.get(e.tid) ?? String(e.tid) });
    else if (e.name === "ResourceReceiveResponse") r.response = at(e.ts);
    else if (e.name === "ResourceFinish") Object.assign(r, { end: at(e.ts), bytes: Number(d["encodedDataLength"] ?? 0) });
  }
  const requests = [...byId.values()]
    .filter((r): r is Request & { id: string } => r.url !== undefined && new URL(r.url).pathname.startsWith(prefix) && r.start !== undefined && r.start >= 0 && r.end !== undefined)
    .map(({ id: _id, ...r }) => ({ ...r, url: new URL(r.url).pathname.slice(prefix.length), response: r.response ?? r.end }))
    .sort((a, b) => a.start - b.start);

  // Pool workers: dedicated worker threads whose script is Neuroglancer's async-computation bundle.
  const poolWorkers: Timeline["poolWorkers"] = [];
  for (const [tid, name] of threads) {
    if (!/DedicatedWorker/.test(name)) continue;
    const mine = events.filter((e) => e.pid === pid && e.tid === tid && e.ph === "X");
    const script = mine.find((e) => e.name === "EvaluateScript" && /async_computation/.test(String(e.args?.data?.["url"] ?? "")));
    if (!script) continue;
    const first = Math.min(...mine.map((e) => e.ts));
    if (at(first) < 0) continue; // started before the layer was added
    poolWorkers.push({ start: at(first), scriptEvaluated: at(script.ts + (script.dur ?? 0)) });
  }
  poolWorkers.sort((a, b) => a.start - b.start);

  const decodes: Span[] = [];
  // User timing measures are async events: a begin ("b") and an end ("e") with one id.
  const begins = new Map<string, number>();
  const key = (e: TraceEvent) => `${e.tid}:${e.id ?? e.id2?.local ?? e.id2?.global}`;
  for (const e of events) {
    if (e.pid !== pid) continue;
    if (e.name === DECODE_MEASURE && e.ph === "b") begins.set(key(e), e.ts);
    else if (e.name === DECODE_MEASURE && e.ph === "e") {
      const b = begins.get(key(e));
      if (b !== undefined) decodes.push({ start: at(b), end: at(e.ts) });
    } else if (e.name === "DecompressionStream Inflate" && e.ph === "X") decodes.push({ start: at(e.ts), end: at(e.ts + (e.dur ?? 0)) });
  }
  decodes.sort((a, b) => a.start - b.start);
  return { ready: at(ready.ts), requests, poolWorkers, decodes: decodes.filter((d) => d.start >= 0) };
}

/**
 * What each request is, from its path below the store and its method: metadata, a shard's size
 * (Neuroglancer's HEAD before a suffix read of the index), a shard index (the first GET of a shard
 * after its HEAD), or a chunk (every other read under c/).
 */
export function requestKinds(requests: readonly Request[]): Array<"metadata" | "shard size" | "shard index" | "chunk"> {
  const sized = new Set<string>(), indexed = new Set<string>();
  return requests.map((r) => {
    if (!/(^|\/)c\//.test(r.url)) return "metadata";
    if (r.method === "HEAD") { sized.add(r.url); return "shard size"; }
    if (sized.has(r.url) && !indexed.has(r.url)) { indexed.add(r.url); return "shard index"; }
    return "chunk";
  });
}

export interface Phase { phase: string; count: number; start: number; end: number; bytes?: number }

/** The run as phases: each kind of request, the pool's start, the decodes, the ready frame. */
export function phases(t: Timeline): Phase[] {
  const out: Phase[] = [];
  const span = (phase: string, xs: Array<{ start: number; end: number; bytes?: number }>) => {
    if (!xs.length) return;
    const bytes = xs.reduce((s, x) => s + (x.bytes ?? 0), 0);
    out.push({ phase, count: xs.length, start: Math.min(...xs.map((x) => x.start)), end: Math.max(...xs.map((x) => x.end)), ...(bytes ? { bytes } : {}) });
  };
  const kinds = requestKinds(t.requests);
  for (const kind of ["metadata", "shard size", "shard index", "chunk"] as const) span(`requests: ${kind}`, t.requests.filter((_, i) => kinds[i] === kind));
  span("pool workers start (script evaluated)", t.poolWorkers.map((w) => ({ start: w.start, end: w.scriptEvaluated })));
  span("chunk decodes", t.decodes);
  out.push({ phase: "ready frame", count: 1, start: t.ready, end: t.ready });
  return out;
}

export interface Segment { segment: string; ms: number }

/**
 * The run as consecutive segments that sum to the ready frame: the metadata round trips (the
 * group's and the levels' zarr.json), the set-up until the first shard or chunk request, the shard
 * sizes and indexes, the chunk reads after them, the decodes still running after the last chunk
 * arrived, and what follows the last decode (upload, drawing) until the ready frame.
 */
export function criticalPath(t: Timeline): Segment[] {
  const kinds = requestKinds(t.requests);
  const of = (k: string) => t.requests.filter((_, i) => kinds[i] === k);
  const meta = t.requests.filter((r, i) => kinds[i] === "metadata" && r.url.endsWith("zarr.json"));
  const data = t.requests.filter((_, i) => kinds[i] !== "metadata");
  const metaEnd = Math.max(0, ...meta.map((r) => r.end));
  const firstData = Math.max(metaEnd, Math.min(...data.map((r) => r.start)));
  const indexEnd = Math.max(firstData, ...of("shard index").map((r) => r.end));
  const chunkEnd = Math.max(indexEnd, ...of("chunk").map((r) => r.end));
  const decodeEnd = Math.max(chunkEnd, ...t.decodes.map((d) => d.end));
  const ready = Math.max(decodeEnd, t.ready);
  return [
    { segment: "metadata round trips (zarr.json)", ms: metaEnd },
    { segment: "set-up until the first shard or chunk request", ms: firstData - metaEnd },
    { segment: "shard sizes and indexes", ms: indexEnd - firstData },
    { segment: "chunk reads after them", ms: chunkEnd - indexEnd },
    { segment: "decodes after the last chunk arrived", ms: decodeEnd - chunkEnd },
    { segment: "after the last decode until the ready frame (upload, drawing)", ms: ready - decodeEnd },
  ];
}
