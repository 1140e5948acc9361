/**
 * A zarrita store over a local directory (`get`/`getRange`/`set`), with `node:fs/promises`.
 * Ours rather than `@zarrita/storage/fs`, which is only a transitive dependency: keys must stay
 * inside the root, and only "no such file" means "absent" (other I/O errors surface).
 */
import { mkdir, open, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { AbsolutePath, RangeQuery } from "zarrita";
import { readAt } from "./read-at.js";

export class FileSystemStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async get(key: AbsolutePath): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.pathOf(key)));
    } catch (e) {
      if (isAbsent(e)) return undefined;
      throw e;
    }
  }

  async getRange(key: AbsolutePath, range: RangeQuery): Promise<Uint8Array | undefined> {
    let fh;
    try {
      fh = await open(this.pathOf(key), "r");
    } catch (e) {
      if (isAbsent(e)) return undefined;
      throw e;
    }
    try {
      const size = (await fh.stat()).size;
      const [offset, length] = "suffixLength" in range
        ? [Math.max(0, size - range.suffixLength), Math.min(size, range.suffixLength)]
        : [range.offset, Math.max(0, Math.min(range.length, size - range.offset))];
      return await readAt(fh, offset, length);
    } finally {
      await fh.close();
    }
  }

  async set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    const p = this.pathOf(key);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, value);
  }

  private pathOf(key: string): string {
    const p = resolve(join(this.root, key));
    if (p !== this.root && !p.startsWith(this.root + sep)) throw new Error(`zarr key ${key} escapes the store root ${this.root}`);
    return p;
  }
}

/** ENOENT, or ENOTDIR when a parent path is a file: the key is simply not there. */
function isAbsent(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}
