/**
 * Files written by other implementations (tifffile, zarr-python 2, numcodecs), generated at test
 * time by test/interop/make_fixtures.py beside the arrays they hold, must read bit-identically or
 * be refused by name; and what `vmg decode` writes must open in zarr-python 2. HTTP cases go
 * through a real server on 127.0.0.1 that answers 403 for missing keys (as S3 does without list
 * permission) and honours Range requests.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import type { VoxelArray } from "../src/core/dtype.js";
import { fullBox, levelFactors, VmgDecoder } from "../src/decode/decoder.js";
import { readVmg, writeVmg } from "../src/format/vmg.js";
import { ConnectionError, MissingChunkError, UnsupportedFeatureError } from "../src/io/errors.js";
import { openVolume } from "../src/node/open-volume.js";
import { vmg } from "./helpers/cli.js";
import { randomFile } from "./helpers/files.js";

const SCRIPT = fileURLToPath(new URL("./interop/make_fixtures.py", import.meta.url));
const NEEDS = "import zarr, numcodecs, tifffile, numpy";

/** A Python that has zarr-python 2, numcodecs and tifffile (Debian's python3-zarr etc.), if any. */
function findPython(): string | undefined {
  for (const exe of [process.env["VMG_PYTHON"], "python3", "/usr/bin/python3"]) {
    if (!exe) continue;
    const r = spawnSync(exe, ["-c", `${NEEDS}; assert zarr.__version__.startswith("2.")`], { stdio: "ignore" });
    if (r.status === 0) return exe;
  }
  return undefined;
}

const python = findPython();
const SKIP = python ? false : "no python3 with zarr 2, numcodecs and tifffile (Debian python3-zarr python3-numcodecs python3-tifffile)";

interface Expect { raw: string; dtype: string; shape: number[]; voxelSize?: number[]; unit?: string; origin?: number[]; sourceDType?: string; missingChunks?: boolean }
interface Case { name: string; path: string; expect?: Expect; error?: string }
interface Manifest { cases: Case[]; skipped: string[] }

let dir = "";
let manifest: Manifest = { cases: [], skipped: [] };
let server: Server | undefined;
let base = "";
const requests: { path: string; range?: string; status: number }[] = [];

before(async () => {
  if (!python) return;
  dir = mkdtempSync(join(tmpdir(), "vmg-interop-"));
  execFileSync(python, [SCRIPT, dir], { stdio: ["ignore", "ignore", "inherit"] });
  manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
  server = createServer((req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
    const range = req.headers.range;
    const entry: { path: string; range?: string; status: number } = { path: path.slice(dir.length), status: 200 };
    if (range) entry.range = range;
    requests.push(entry);
    if (!path.startsWith(dir + sep) || !existsSync(path) || !statSync(path).isFile()) {
      entry.status = 403;
      res.writeHead(403, "Forbidden").end("<Error><Code>AccessDenied</Code></Error>");
      return;
    }
    const body = readFileSync(path);
    const m = range ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
    if (m) {
      entry.status = 206;
      res.writeHead(206, { "Content-Range": `bytes ${m[1]}-${m[2]}/${body.length}` }).end(body.subarray(Number(m[1]), Number(m[2]) + 1));
    } else {
      res.writeHead(200).end(body);
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function expected(e: Expect): VoxelArray {
  const b = readFileSync(join(dir, e.raw));
  const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  switch (e.dtype) {
    case "uint8": return new Uint8Array(buf);
    case "int8": return new Int8Array(buf);
    case "uint16": return new Uint16Array(buf);
    case "int16": return new Int16Array(buf);
    case "float32": return new Float32Array(buf);
    default: throw new Error(`fixture dtype ${e.dtype}`);
  }
}

function cases(filter: (c: Case) => boolean): Case[] {
  return manifest.cases.filter(filter);
}

test("fixtures written by tifffile and zarr-python read bit-identically, with voxel size, unit and origin", { skip: SKIP }, async (t) => {
  for (const s of manifest.skipped) t.diagnostic(`fixture skipped: ${s}`);
  const reads = cases((c) => c.expect !== undefined);
  assert.ok(reads.length >= 12, `${reads.length} read cases`);
  for (const c of reads) {
    const e = c.expect!;
    const v = await openVolume(join(dir, c.path));
    assert.equal(v.dtype, e.dtype, c.name);
    assert.deepEqual(v.shape, e.shape, c.name);
    assert.deepEqual(v.data, expected(e), `${c.name}: samples differ from what the writer wrote`);
    assert.deepEqual(v.voxelSize, e.voxelSize, `${c.name}: voxel size`);
    assert.equal(v.unit, e.unit, `${c.name}: unit`);
    assert.deepEqual(v.origin, e.origin, `${c.name}: origin`);
    assert.equal(v.sourceDType, e.sourceDType, `${c.name}: conversion`);
  }
});

test("a TIFF or BigTIFF stack without a .tif name is told by its header", { skip: SKIP }, async () => {
  for (const name of ["bigtiff", "float32-be"]) {
    const c = cases((x) => x.name === name)[0]!;
    const bare = join(dir, `${name}-no-extension`);
    copyFileSync(join(dir, c.path), bare);
    assert.deepEqual((await openVolume(bare)).data, expected(c.expect!), name);
  }
});

test("refused fixtures name the file and the feature", { skip: SKIP }, async () => {
  for (const c of cases((x) => x.error !== undefined)) {
    const path = join(dir, c.path);
    await assert.rejects(openVolume(path), (e: unknown) =>
      e instanceof UnsupportedFeatureError && e.message.startsWith(`${path}: `) && e.message.includes(c.error!) && !e.message.includes("\n"));
  }
});

test("zarr with absent chunks: the fill value by default, --strict names the first missing key", { skip: SKIP }, async () => {
  const c = cases((x) => x.name === "sparse")[0]!;
  const path = join(dir, c.path);
  await assert.rejects(openVolume(path, { strict: true }), (e: unknown) => e instanceof MissingChunkError && e.chunkKey === "0.0.0");
  const r = await vmg(["eval", vmgOf(c.expect!.shape), "--ref", path, "--strict", "--json"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^vmg: .*sparse\.zarr: missing zarr chunk 0\.0\.0 \(refused by --strict/);
});

test("HTTP: 403 for absent keys (v3 probe, absent chunks, consolidated-only metadata), Range reads", { skip: SKIP }, async () => {
  for (const name of ["sparse", "consolidated", "bf2raw", "bigtiff"]) {
    const c = cases((x) => x.name === name)[0]!;
    requests.length = 0;
    const v = await openVolume(`${base}/${c.path}`);
    assert.deepEqual(v.data, expected(c.expect!), `${name} over HTTP`);
    assert.deepEqual(v.origin, c.expect!.origin, `${name} origin over HTTP`);
    if (name !== "bigtiff") assert.ok(requests.some((r) => r.status === 403 && r.path.endsWith("zarr.json")), `${name}: the v3 probe met a 403 and went on`);
  }
  // the server honours Range: a sharded or partial read through the store gets exactly the bytes asked for
  const { HttpStore } = await import("../src/io/http-store.js");
  const store = new HttpStore(`${base}/sparse.zarr`);
  const whole = readFileSync(join(dir, "sparse.zarr", ".zarray"));
  assert.deepEqual(await store.getRange("/.zarray", { offset: 3, length: 10 }), new Uint8Array(whole.subarray(3, 13)));
  assert.deepEqual(await store.getRange("/.zarray", { suffixLength: 5 }), new Uint8Array(whole.subarray(whole.length - 5)));
  assert.equal(await store.get("/nothing-here"), undefined);
});

test("unreachable servers: the system error is kept in a one-line message naming the URL", { skip: SKIP }, async () => {
  const port = await freePort();
  const down = `http://127.0.0.1:${port}/img.zarr`;
  await assert.rejects(openVolume(down), (e: unknown) =>
    e instanceof ConnectionError && e.code === "ECONNREFUSED" && e.message.startsWith(`${down}: cannot connect`) && e.message.includes("ECONNREFUSED"));
  await assert.rejects(openVolume(`http://127.0.0.1:${port}/img.tif`), (e: unknown) => e instanceof ConnectionError && e.code === "ECONNREFUSED");
  const bad = "http://nonexistent.invalid/img.zarr";
  await assert.rejects(openVolume(bad), (e: unknown) =>
    e instanceof ConnectionError && /^(ENOTFOUND|EAI_AGAIN)$/.test(e.code ?? "") && e.message.includes(e.code!) && e.message.startsWith(`${bad}: `));
});

test("vmg decode --zarr-format 2 is read by zarr-python 2 bit-identically, with OME-Zarr 0.4 metadata and the origin", { skip: SKIP }, async () => {
  const file = randomFile([9, 20, 24], 30, 5);
  file.header.origin = [100, -20, 7.5];
  const src = join(dir, "decoded-src.vmg");
  const bytes = writeVmg(file);
  writeFileSync(src, bytes);
  const decoder = new VmgDecoder(readVmg(bytes)); // what the file holds (float16 records)
  for (const [label, extra, box, level] of [
    ["full", [] as string[], fullBox(file.header.shape), 0],
    ["box at scale 1", ["--scale", "1", "--box", "1:4,2:9,3:12"], { z0: 1, z1: 4, y0: 2, y1: 9, x0: 3, x1: 12 }, 1],
  ] as const) {
    const out = join(dir, `decoded-${level}.zarr`);
    const r = await vmg(["decode", src, "-o", out, "--zarr-format", "2", "--quiet", ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const raw = join(dir, `decoded-${level}.bin`);
    const attrs = JSON.parse(execFileSync(python!, ["-c", [
      "import sys, json, zarr",
      "g = zarr.open_group(sys.argv[1], mode='r')",
      "a = g['0'][:]",
      "a.astype(a.dtype.newbyteorder('<')).tofile(sys.argv[2])",
      "print(json.dumps({'attrs': g.attrs.asdict(), 'dtype': str(a.dtype), 'shape': list(a.shape)}))",
    ].join("\n"), out, raw], { encoding: "utf8" })) as { attrs: { multiscales: Record<string, unknown>[] }; dtype: string; shape: number[] };
    const want = decoder.decode(box, levelFactors(level));
    const got = readFileSync(raw);
    assert.deepEqual(new Uint16Array(got.buffer, got.byteOffset, got.byteLength / 2), want, `${label}: zarr-python reads the decoder's values`);
    assert.equal(attrs.dtype, "uint16");
    assert.deepEqual(attrs.shape, [box.z1 - box.z0, box.y1 - box.y0, box.x1 - box.x0]);
    const ms = attrs.attrs.multiscales[0]!;
    assert.equal(ms["version"], "0.4");
    assert.equal(ms["name"], "decoded-src");
    assert.equal(typeof ms["type"], "string");
    assert.equal(typeof ms["metadata"], "object");
    const f = 2 ** level;
    const [tz, ty, tx] = [0, 1, 2].map((k) => file.header.origin[k]! + file.header.voxelSize[k]! * (f * [box.z0, box.y0, box.x0][k]! + (f - 1) / 2));
    assert.deepEqual((ms["datasets"] as { coordinateTransformations: unknown[] }[])[0]!.coordinateTransformations, [
      { type: "scale", scale: file.header.voxelSize.map((s) => s * f) },
      { type: "translation", translation: [tz, ty, tx] },
    ]);
    // and we read our own output back with the same origin
    assert.deepEqual((await openVolume(out)).origin, [tz, ty, tx]);
  }
  const v3 = join(dir, "decoded-v3.zarr");
  assert.equal((await vmg(["decode", src, "-o", v3, "--quiet"])).code, 0);
  const meta = JSON.parse(readFileSync(join(v3, "zarr.json"), "utf8")) as { attributes: { ome: { version: string; multiscales: Record<string, unknown>[] } } };
  assert.equal(meta.attributes.ome.version, "0.5");
  for (const key of ["name", "type", "metadata"]) assert.ok(key in meta.attributes.ome.multiscales[0]!, `OME-Zarr 0.5 SHOULD field ${key}`);
});

/** A .vmg of the given shape (for commands that need one beside a reference). */
function vmgOf(shape: number[]): string {
  const p = join(dir, `shape-${shape.join("x")}.vmg`);
  if (!existsSync(p)) writeFileSync(p, writeVmg(randomFile(shape as [number, number, number], 3)));
  return p;
}

/** A port with nothing listening (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
