/** Comparing chunked stores as a user would: every file's bytes, the run manifest aside. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isRunFile, MANIFEST_NAME, STAGING_NAME } from "../../src/store/manifest.js";

/** Every file of a store but its run's record (manifest and job table), by relative path. */
export async function storeFiles(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || isRunFile(e.name)) continue;
    const p = join(e.parentPath, e.name);
    out.set(p.slice(root.length), await readFile(p));
  }
  return out;
}

/** The store at `actual` is complete, has no staging left and holds `expected`'s bytes file for file. */
export async function assertSameStore(actual: string, expected: string): Promise<void> {
  const [a, b] = [await storeFiles(actual), await storeFiles(expected)];
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${actual}${k} differs`);
  const m = JSON.parse(await readFile(join(actual, MANIFEST_NAME), "utf8"));
  assert.equal(m.complete, true);
  assert.ok(!existsSync(join(actual, STAGING_NAME)), "staging removed");
}
