import type { FileHandle } from "node:fs/promises";

/** `n` bytes at `at` (fewer only at the end of the file): one read may return less than asked (network file systems). */
export async function readAt(fh: FileHandle, at: number, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await fh.read(buf, got, n - got, at + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}
