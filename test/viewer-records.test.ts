/** The page's per-source records (decode statistics, failed store chunks) are released when no layer shows their source. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ShownSources } from "../src/viewer/shown-records.js";

test("a store's and a file's records stay while a layer shows them and go once none does; a late report of a gone source starts none", () => {
  const records = new Map<string, number>([
    ["http://h/a.ome.zarr/0/", 1], ["http://h/a.ome.zarr/1/", 2], // store a's level arrays
    ["http://h/ab.ome.zarr/0/", 3], // another store whose name starts like a's
    ["http://h/f.vmg", 4],
  ]);
  const shown = new ShownSources();
  assert.ok(shown.has("http://h/any.vmg"), "before the layers are told, every source counts as shown");
  shown.set(["http://h/a.ome.zarr", "http://h/ab.ome.zarr/", "http://h/f.vmg"]);
  assert.equal(shown.release(records), false);
  assert.equal(records.size, 4);
  // store a's layer removed: its arrays go, the store beside it (a prefix of its name) stays
  shown.set(["http://h/ab.ome.zarr/", "http://h/f.vmg"]);
  assert.equal(shown.release(records), true);
  assert.deepEqual([...records.keys()], ["http://h/ab.ome.zarr/0/", "http://h/f.vmg"]);
  assert.equal(shown.has("http://h/a.ome.zarr/0/"), false, "a chunk of store a decoded after its layer went");
  shown.set([]);
  assert.equal(shown.release(records), true);
  assert.equal(records.size, 0, "no layer: nothing kept");
});
