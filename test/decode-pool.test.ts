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

/** The values of `box` cut from a full decode `ref` of shape [ny, nx] planes. */
function cut(ref: ArrayLike<number>, shape: readonly number[], box: { z0: number; z1: number; y0: number; y1: number; x0: number; x1: number }): number[] {
  const [, ny, nx] = shape as [number, number, number];
  const out: number[] = [];
  for (let z = box.z0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) out.push(ref[(z * ny + y) * nx + x]!);
  return out;
}

test("overlapping decodes of different boxes on one pool each return the plain decoder's values", async () => {
  const bytes = writeVmg(randomFile([40, 240, 240], 600, 12, { maxScale: 5 }));
  const f = readVmg(bytes);
  const ref = new VmgDecoder(f).decode(fullBox(f.header.shape));
  const boxes = [
    fullBox(f.header.shape),
    { z0: 0, z1: 30, y0: 0, y1: 240, x0: 10, x1: 240 },
    { z0: 5, z1: 40, y0: 20, y1: 230, x0: 0, x1: 200 },
    { z0: 12, z1: 40, y0: 0, y1: 240, x0: 0, x1: 240 },
  ];
  for (const b of boxes) assert.ok(boxVoxels(b) > IN_PROCESS_VOXELS, "every box goes through the workers");
  const pool = await DecodePool.create(bytes, 2);
  try {
    const ticks = boxes.map(() => 0);
    const results = await Promise.all(boxes.map((box, i) => pool.decode({ box, onProgress: () => { ticks[i]!++; } })));
    results.forEach((r, i) => assert.deepEqual(Array.from(r), cut(ref, f.header.shape, boxes[i]!), `box ${i}`));
    assert.ok(ticks.every((t) => t >= 1), "each decode sees its own progress");
  } finally {
    await pool.close();
  }
});

test("cancelling one of several overlapping decodes leaves the others running and exact", async () => {
  const bytes = writeVmg(randomFile([100, 400, 400], 600, 13, { maxScale: 5 }));
  const f = readVmg(bytes);
  const ref = new VmgDecoder(f).decode(fullBox(f.header.shape));
  const a = fullBox(f.header.shape);
  const b = { z0: 10, z1: 50, y0: 0, y1: 400, x0: 20, x1: 400 };
  // one worker: it claims the cancelled decode's tiles one by one, so the abort lands between two of them
  const pool = await DecodePool.create(bytes, 1);
  try {
    const stop = new AbortController();
    let cancelledTiles = 0;
    // cancelled after its first tile, while its other tiles and the two other decodes are pending
    const cancelled = pool.decode({ box: a, signal: stop.signal, onProgress: () => { if (++cancelledTiles === 1) stop.abort(); } });
    const first = pool.decode({ box: b });
    const second = pool.decode({ box: a });
    await assert.rejects(cancelled, { name: "AbortError" });
    assert.deepEqual(Array.from(await first), cut(ref, f.header.shape, b));
    assert.deepEqual(Array.from(await second), Array.from(ref));
    const total = Math.ceil(100 / Math.floor(4_000_000 / (400 * 400)));
    assert.ok(cancelledTiles < total, `the cancelled decode stopped early (${cancelledTiles} of ${total} tiles)`);
    // and the pool still serves a decode afterwards
    assert.deepEqual(Array.from(await pool.decode({ box: b })), cut(ref, f.header.shape, b));
  } finally {
    await pool.close();
  }
});

test("the decoder itself rejects an aborted signal with its AbortError", () => {
  const d = new VmgDecoder(readVmg(writeVmg(randomFile([8, 64, 64], 2000, 14))));
  const reason = new DOMException("chunk no longer needed", "AbortError");
  assert.throws(() => d.decode(fullBox(d.file.header.shape), [1, 1, 1], undefined, undefined, AbortSignal.abort(reason)), (e) => e === reason);
});

test("a pool whose calling thread decodes too (a command's one decode) equals the plain decoder, with threads − 1 workers or none; each slab is final when reported", async () => {
  const bytes = writeVmg(randomFile([24, 240, 240], 400, 15, { maxScale: 5 }));
  const f = readVmg(bytes);
  const ref = new VmgDecoder(f).decode(fullBox(f.header.shape));
  const [depth, ny, nx] = f.header.shape;
  assert.ok(boxVoxels(fullBox(f.header.shape)) > IN_PROCESS_VOXELS, "the full box is cut into tiles");
  for (const threads of [1, 2, 3]) {
    const pool = await DecodePool.create(bytes, threads, undefined, { callerDecodes: true, parsed: f });
    try {
      let last = 0, total = 0;
      // what a streaming writer sees: the slab's values at the moment it is reported
      let output: ArrayLike<number> = [];
      const reported = new Uint8Array(depth);
      let stale = 0;
      const full = await pool.decode({
        onProgress: (done, of) => { last = done; total = of; },
        onOutput: (o) => { output = o; },
        onSlices: (z0, z1) => {
          for (let z = z0; z < z1; z++) reported[z]!++;
          for (let i = z0 * ny * nx; i < z1 * ny * nx; i++) if (output[i] !== ref[i]) stale++;
        },
      });
      assert.deepEqual(full, ref, `${threads} threads`);
      assert.ok(total >= 1 && last >= 1 && last <= total, "progress counts tiles");
      assert.deepEqual([...new Set(reported)], [1], "every slice reported once");
      assert.equal(stale, 0, "a reported slab holds its final values");
      const aborted = new AbortController();
      aborted.abort();
      await assert.rejects(pool.decode({ signal: aborted.signal }), { name: "AbortError" });
    } finally {
      await pool.close();
    }
  }
});
