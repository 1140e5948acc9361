/** The page's per-source records (decode statistics, failed store chunks) are released when no layer shows their source. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { releaseUnshown } from "../src/viewer/shown-records.js";

test("a store's and a file's records stay while a layer shows them and go once none does", () => {
  const records = new Map<string, number>([
    ["http://h/a.ome.zarr/0/", 1], ["http://h/a.ome.zarr/1/", 2], // store a's level arrays
    ["http://h/ab.ome.zarr/0/", 3], // another store whose name starts like a's
    ["http://h/f.vmg", 4],
  ]);
  assert.equal(releaseUnshown(records, ["http://h/a.ome.zarr", "http://h/ab.ome.zarr/", "http://h/f.vmg"]), false);
  assert.equal(records.size, 4);
  // store a's layer removed: its arrays go, the store beside it (a prefix of its name) stays
  assert.equal(releaseUnshown(records, ["http://h/ab.ome.zarr/", "http://h/f.vmg"]), true);
  assert.deepEqual([...records.keys()], ["http://h/ab.ome.zarr/0/", "http://h/f.vmg"]);
  assert.equal(releaseUnshown(records, []), true);
  assert.equal(records.size, 0, "no layer: nothing kept");
});
