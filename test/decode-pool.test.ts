import assert from "node:assert/strict";
import { test } from "node:test";
import { boxVoxels, fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { readVmg, writeVmg } from "../src/format/vmg.js";
import { DecodePool, IN_PROCESS_VOXELS } from "../src/node/decode-pool.js";
import { randomFile } from "./helpers/files.js";

test("the worker pool (large boxes) and the in-process path (small boxes) both equal the plain decoder", async () => {
  const bytes = writeVmg(randomFile([20, 240, 240], 400, 11, { maxScale: 5 }));
  const f = readVmg(bytes);
  const ref = new VmgDecoder(f).decode(fullBox(f.header.shape));
  assert.ok(boxVoxels(fullBox(f.header.shape)) > IN_PROCESS_VOXELS, "the full box goes through the workers");
  const pool = await DecodePool.create(bytes, 2);
  try {
    const ticks: number[] = [];
    const full = await pool.decode({ onProgress: (done) => ticks.push(done) });
    assert.deepEqual(full, ref);
    assert.ok(ticks.length >= 1 && ticks.at(-1) === ticks.length, "progress counts tiles");
    const box = { z0: 2, z1: 9, y0: 100, y1: 180, x0: 7, x1: 200 };
    assert.ok(boxVoxels(box) <= IN_PROCESS_VOXELS, "the small box is decoded in process");
    const part = await pool.decode({ box });
    const [, ny, nx] = f.header.shape;
    let o = 0, mismatches = 0;
    for (let z = box.z0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) {
      if (part[o++] !== ref[(z * ny + y) * nx + x]) mismatches++;
    }
    assert.equal(mismatches, 0);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(pool.decode({ signal: aborted.signal }), { name: "AbortError" });
    await assert.rejects(pool.decode({ box, signal: aborted.signal }), { name: "AbortError" });
  } finally {
    await pool.close();
  }
});
