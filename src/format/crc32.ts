/** Table-driven reflected CRC-32s: IEEE 802.3 (as zlib and PNG) and Castagnoli (zarr v3's `crc32c`). */
/** `previous`: the CRC of the bytes before these, to continue it (crc(a ‖ b) = crc(b, 0, b.length, crc(a))). */
type Crc = (bytes: Uint8Array, start?: number, end?: number, previous?: number) => number;

function reflectedCrc32(polynomial: number): Crc {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (bytes, start = 0, end = bytes.length, previous = 0) => {
    let c = (previous ^ 0xffffffff) >>> 0;
    for (let i = start; i < end; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
}

export const crc32: Crc = reflectedCrc32(0xedb88320);
/** CRC-32C (reflected polynomial 0x82F63B78), the checksum of a zarr shard index. */
export const crc32c: Crc = reflectedCrc32(0x82f63b78);
