/** The demo and browser-test server's Range support (Neuroglancer reads zarr shards by range). */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseRange, startStaticServer, type StaticServer } from "../demo/server.js";

const BODY = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
let dir: string;
let server: StaticServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "vmg-range-"));
  writeFileSync(join(dir, "shard.bin"), BODY);
  writeFileSync(join(dir, "empty.bin"), new Uint8Array(0));
  server = await startStaticServer({ "/data": dir });
});
after(async () => { await server?.close(); rmSync(dir, { recursive: true, force: true }); });

const get = (path: string, range?: string) => fetch(`${server.url}data/${path}`, range ? { headers: { range } } : {});

async function expectPart(range: string, start: number, end: number): Promise<void> {
  const r = await get("shard.bin", range);
  assert.equal(r.status, 206, range);
  assert.equal(r.headers.get("content-range"), `bytes ${start}-${end}/${BODY.length}`);
  assert.equal(r.headers.get("content-length"), String(end - start + 1));
  assert.deepEqual(new Uint8Array(await r.arrayBuffer()), BODY.subarray(start, end + 1));
}

test("a range, an open-ended range and a suffix range get 206 with their bytes and Content-Range", async () => {
  await expectPart("bytes=10-19", 10, 19);
  await expectPart("bytes=990-2000", 990, 999); // clipped at the end
  await expectPart("bytes=900-", 900, 999);
  await expectPart("bytes=-16", 984, 999); // the shard index: the last 16 bytes
  await expectPart("bytes=-5000", 0, 999);
});

test("a range starting past the end gets 416 with the size; no Range gets the whole file", async () => {
  for (const range of ["bytes=1000-1010", "bytes=-0"]) {
    const r = await get("shard.bin", range);
    assert.equal(r.status, 416, range);
    assert.equal(r.headers.get("content-range"), "bytes */1000");
    await r.arrayBuffer();
  }
  const suffixOfEmpty = await get("empty.bin", "bytes=-4");
  assert.equal(suffixOfEmpty.status, 416);
  await suffixOfEmpty.arrayBuffer();
  const whole = await get("shard.bin");
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get("accept-ranges"), "bytes");
  assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), BODY);
});

test("requests are logged with their range and status", async () => {
  const before = server.requests.length;
  await (await get("shard.bin", "bytes=0-3")).arrayBuffer();
  await (await get("missing.bin")).arrayBuffer();
  assert.deepEqual(server.requests.slice(before), [
    { method: "GET", path: "/data/shard.bin", range: "bytes=0-3", status: 206 },
    { method: "GET", path: "/data/missing.bin", status: 404 },
  ]);
});

test("Range headers this server does not take fall back to the whole file", () => {
  assert.equal(parseRange("bytes=0-1,5-6", 10), "whole");
  assert.equal(parseRange("items=0-1", 10), "whole");
  assert.equal(parseRange("bytes=5-2", 10), "whole");
  assert.equal(parseRange("bytes=-", 10), "whole");
  assert.deepEqual(parseRange("bytes=2-4", 10), { start: 2, end: 4 });
});
