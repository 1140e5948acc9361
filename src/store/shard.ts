/**
 * zarr v3 `sharding_indexed` shards: inner chunks back to back, then the index (index_location
 * "end"): per inner chunk in C order a little-endian u64 offset and u64 length, both 2⁶⁴ − 1 for an
 * absent chunk (read as the fill value), encoded by the index codecs `bytes` (little endian) and
 * `crc32c` (the index followed by its CRC-32C as a little-endian u32).
 */
import { crc32c } from "../format/crc32.js";

const ABSENT = 0xffffffffffffffffn;

/** Bytes of a shard's index, checksum included, for `chunks` inner chunks. */
export function shardIndexBytes(chunks: number): number {
  return 16 * chunks + 4;
}

/** The shard file, or undefined when every inner chunk is absent (the shard is then not written). */
export function buildShard(chunks: ReadonlyArray<Uint8Array | undefined>): Uint8Array | undefined {
  if (chunks.every((c) => c === undefined)) return undefined;
  const data = chunks.reduce((n, c) => n + (c?.length ?? 0), 0);
  const out = new Uint8Array(data + shardIndexBytes(chunks.length));
  const index = new DataView(out.buffer, data, 16 * chunks.length);
  let o = 0;
  chunks.forEach((c, i) => {
    if (c === undefined) {
      index.setBigUint64(16 * i, ABSENT, true);
      index.setBigUint64(16 * i + 8, ABSENT, true);
      return;
    }
    out.set(c, o);
    index.setBigUint64(16 * i, BigInt(o), true);
    index.setBigUint64(16 * i + 8, BigInt(c.length), true);
    o += c.length;
  });
  new DataView(out.buffer).setUint32(data + 16 * chunks.length, crc32c(out.subarray(data, data + 16 * chunks.length)), true);
  return out;
}

/** The sharding codec's metadata for inner chunks of `chunkShape` coded by `inner`. */
export function shardingCodec(chunkShape: readonly number[], inner: Record<string, unknown>): Record<string, unknown> {
  return {
    name: "sharding_indexed",
    configuration: {
      chunk_shape: [...chunkShape],
      codecs: [inner],
      // index_location "end" is the default
      index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
    },
  };
}

/** One inner chunk's place in its shard, or undefined where the chunk is absent. */
export type ShardEntry = { offset: number; length: number } | undefined;

/**
 * The entries of a shard index (`shardIndexBytes(chunks)` bytes: the u64 pairs, then their
 * CRC-32C), in C order; undefined when the checksum does not match (a damaged or foreign index).
 */
export function readShardIndex(index: Uint8Array, chunks: number): ShardEntry[] | undefined {
  if (index.length !== shardIndexBytes(chunks)) return undefined;
  const view = new DataView(index.buffer, index.byteOffset, index.length);
  if (view.getUint32(16 * chunks, true) !== crc32c(index.subarray(0, 16 * chunks))) return undefined;
  return indexEntries(view, chunks);
}

function indexEntries(view: DataView, chunks: number): ShardEntry[] {
  return Array.from({ length: chunks }, (_, i) => {
    const offset = view.getBigUint64(16 * i, true), length = view.getBigUint64(16 * i + 8, true);
    return offset === ABSENT ? undefined : { offset: Number(offset), length: Number(length) };
  });
}

/** The inner chunks of a shard written by buildShard (undefined where absent), in C order. */
export function shardChunks(shard: Uint8Array, chunks: number): Array<Uint8Array | undefined> {
  const data = shard.length - shardIndexBytes(chunks);
  return indexEntries(new DataView(shard.buffer, shard.byteOffset + data, 16 * chunks), chunks)
    .map((e) => (e ? shard.subarray(e.offset, e.offset + e.length) : undefined));
}
