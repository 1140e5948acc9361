/**
 * Where a store's bytes go, by kind (issue #14's DIADEM gap): per level its `zarr.json`, shard
 * indexes, and per chunk the head (version, kind, background, count), the packed table and the
 * Gaussians' stream; and a `.vmg` file's container against its Gaussians. Read from the written
 * files, not from the plan's estimates.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Shape3 } from "../src/core/gaussian.js";
import { readVmgWithLayout } from "../src/format/vmg.js";
import { PACKED_HEADER_BYTES } from "../src/format/packed.js";
import { chunkOverheadBytes, readChunk } from "../src/store/codec/chunk.js";
import { decodeChunkTable } from "../src/store/codec/chunk-table.js";
import { parseConfig } from "../src/store/codec/config.js";
import { gaussianCodec, levelPaths, type ArrayJson } from "../src/store/metadata.js";
import { shardChunks, shardIndexBytes } from "../src/store/shard.js";

export interface LevelBytes {
  path: string;
  metadata: number;
  index: number;
  /** Chunk heads: version, kind, background fields and parameters, count. */
  heads: number;
  tables: number;
  /** The Gaussians' coded stream (or f16 records). */
  gaussians: number;
  count: number;
  chunks: Array<{ at: string; bytes: number; count: number }>;
}

export interface StoreBytes { root: number; levels: LevelBytes[]; total: number }

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The byte kinds of the store at `path` (any layout the writer makes: sharded or one chunk per file). */
export function storeBytes(path: string): StoreBytes {
  const root = readFileSync(join(path, "zarr.json"));
  const levels = (levelPaths(JSON.parse(root.toString())) ?? []).map((p): LevelBytes => {
    const meta = readFileSync(join(path, p, "zarr.json"));
    const a = JSON.parse(meta.toString()) as ArrayJson;
    const codec = gaussianCodec(a)!;
    const config = parseConfig(codec.config);
    const inner = codec.chunks as unknown as Shape3;
    const outer = a.chunk_grid!.configuration!.chunk_shape!;
    const per = outer.reduce((n, s, i) => n * (s / inner[i]!), 1);
    const out: LevelBytes = { path: p, metadata: meta.length, index: 0, heads: 0, tables: 0, gaussians: 0, count: 0, chunks: [] };
    let dataDir: string;
    try { dataDir = join(path, p, "c"); statSync(dataDir); } catch { return out; }
    for (const f of files(dataDir)) {
      const bytes = new Uint8Array(readFileSync(f));
      const key = f.slice(dataDir.length + 1).split("/").join(",");
      const chunks = codec.sharded ? shardChunks(bytes, per) : [bytes];
      if (codec.sharded) out.index += shardIndexBytes(per);
      chunks.forEach((c, i) => {
        if (!c) return;
        const content = readChunk(c, inner, config);
        const head = chunkOverheadBytes(content.background, content.count);
        const table = content.count > 0 && config.encoding === "packed" ? decodeChunkTable(c, head, inner).next - head : 0;
        out.heads += head; out.tables += table; out.gaussians += c.length - head - table; out.count += content.count;
        out.chunks.push({ at: codec.sharded ? `${key}#${i}` : key, bytes: c.length, count: content.count });
      });
    }
    return out;
  });
  const total = root.length + levels.reduce((n, l) => n + l.metadata + l.index + l.heads + l.tables + l.gaussians, 0);
  return { root: root.length, levels, total };
}

/** A `.vmg` file's container (header, background, packed table, sections and CRC) against its Gaussians' stream. */
export function fileBytes(bytes: Uint8Array): { total: number; container: number; gaussians: number; count: number } {
  const { file, layout } = readVmgWithLayout(bytes);
  const gaussians = layout.payloadBytes - (file.header.encoding === "packed" ? PACKED_HEADER_BYTES : 0);
  return { total: bytes.length, container: bytes.length - gaussians, gaussians, count: file.count };
}

export function describeStoreBytes(s: StoreBytes): string[] {
  const lines = [`store ${s.total} bytes: root zarr.json ${s.root}`];
  for (const l of s.levels) {
    const sum = l.metadata + l.index + l.heads + l.tables + l.gaussians;
    lines.push(`  level ${l.path}: ${sum} bytes = zarr.json ${l.metadata} + shard index ${l.index} + chunk heads ${l.heads} + packed tables ${l.tables} + Gaussians ${l.gaussians} (${l.count}, ${(l.gaussians / Math.max(1, l.count)).toFixed(2)} B each); chunks ${l.chunks.map((c) => `${c.at}:${c.bytes}B/${c.count}`).join(" ")}`);
  }
  return lines;
}
