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
      index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
      index_location: "end",
    },
  };
}

/** The inner chunks of a shard written by buildShard (undefined where absent), in C order. */
export function shardChunks(shard: Uint8Array, chunks: number): Array<Uint8Array | undefined> {
  const data = shard.length - shardIndexBytes(chunks);
  const index = new DataView(shard.buffer, shard.byteOffset + data, 16 * chunks);
  return Array.from({ length: chunks }, (_, i) => {
    const offset = index.getBigUint64(16 * i, true), length = index.getBigUint64(16 * i + 8, true);
    return offset === ABSENT ? undefined : shard.subarray(Number(offset), Number(offset + length));
  });
}
