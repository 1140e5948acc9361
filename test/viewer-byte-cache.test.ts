/** The viewer's file cache policy: bounded in bytes, least recently used out, never what a layer holds. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ByteCache } from "../src/viewer/byte-cache.js";

function cache(max: number) {
  const released: string[] = [];
  const c = new ByteCache<string>(max, (key, value) => { assert.equal(value, `v${key}`); released.push(key); });
  return { c, released };
}

test("over the bound, the least recently used entries go first and are released", () => {
  const { c, released } = cache(100);
  c.set("a", "va", 40);
  c.set("b", "vb", 40);
  assert.equal(c.get("a"), "va"); // a is now more recent than b
  assert.equal(c.peek("b"), "vb"); // looking does not make b recent
  c.set("c", "vc", 40);
  assert.deepEqual(released, ["b"]);
  assert.deepEqual(c.keys(), ["a", "c"]);
  assert.equal(c.bytes, 80);
  assert.equal(c.get("b"), undefined);
});

test("held entries stay whatever their age; released when the last hold goes and space is needed", () => {
  const { c, released } = cache(100);
  c.holdOnly(["a", "z"]); // before the file is loaded
  c.set("a", "va", 60);
  c.set("b", "vb", 30);
  c.set("c", "vc", 30);
  assert.deepEqual(released, ["b"], "a is older but held");
  c.holdOnly(["z"]);
  assert.ok(c.has("a") && !c.held("a"));
  assert.deepEqual(released, ["b"], "within the bound again: nothing to evict");
  c.resize("c", 50);
  assert.deepEqual(released, ["b", "a"], "growth evicts the unheld LRU entry");
  assert.equal(c.bytes, 50);
});

test("entries that grow past the bound while held are kept, then evicted once free", () => {
  const { c, released } = cache(50);
  c.holdOnly(["a"]);
  c.set("a", "va", 80);
  assert.deepEqual(released, []);
  assert.equal(c.bytes, 80);
  c.holdOnly([]);
  assert.deepEqual(released, ["a"]);
  assert.equal(c.bytes, 0);
  c.set("x", "vx", 10);
  c.setMaxBytes(0);
  assert.deepEqual(released, ["a", "x"]);
});

test("replacing an entry releases the old value once and keeps the byte count exact", () => {
  const released: string[] = [];
  const c = new ByteCache<{ id: number }>(100, (k, v) => released.push(`${k}${v.id}`));
  c.set("a", { id: 1 }, 30);
  c.set("a", { id: 2 }, 20);
  assert.deepEqual(released, ["a1"]);
  assert.equal(c.bytes, 20);
});
