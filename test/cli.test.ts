import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { fullBox, levelFactors, VmgDecoder } from "../src/decode/decoder.js";
import { getMetadata, readVmg, writeVmg } from "../src/format/vmg.js";
import { openVolume } from "../src/node/open-volume.js";
import { writeVolume } from "../src/node/atomic-write.js";
// the decoder this process compares against takes the path the CLI takes (its WebAssembly kernel)
import "../src/node/wasm-kernel.js";
import { sharedData, vmg } from "./helpers/cli.js";
import { randomFile } from "./helpers/files.js";

const dir = mkdtempSync(join(tmpdir(), "vmg-cli-"));
const BIN = fileURLToPath(new URL("../bin/vmg.mjs", import.meta.url));
after(() => rmSync(dir, { recursive: true, force: true }));
const TINC = "tinc_test_8x128x128_u16.tif";

test("CLI round trip on a real volume: compress, info, decode (TIFF and zarr), eval", async (t) => {
  const src = sharedData(TINC);
  if (!src) return t.skip(`../shared/data/${TINC} not present: skipping the real-data round trip`);
  const out = join(dir, "tinc.vmg");
  const c = await vmg(["compress", src, "-o", out, "--bpp", "0.5", "--iterations", "30", "--json", "--log", join(dir, "c.jsonl"), "--plot", join(dir, "c.svg")]);
  assert.equal(c.code, 0, c.stderr);
  const fit = JSON.parse(c.stdout.trim().split("\n").at(-1)!);
  assert.ok(fit.bpp <= 0.5 && fit.gaussians > 0 && fit.psnr > 20 && fit.ssim > 0 && fit.ratio > 30, c.stdout);
  assert.equal(readFileSync(join(dir, "c.jsonl"), "utf8").trim().split("\n").length, 30);
  assert.match(readFileSync(join(dir, "c.svg"), "utf8"), /^<svg[^>]*>.*Model capacity/s);

  const info = await vmg(["info", out, "--json"]);
  assert.equal(info.code, 0, info.stderr);
  const i = JSON.parse(info.stdout);
  assert.deepEqual(i.shape, [8, 128, 128]);
  assert.equal(i.dtype, "uint16");
  assert.equal(i.gaussians, fit.gaussians);
  assert.equal(i.bytes, readFileSync(out).length);
  assert.equal(i.version, "1.1");
  assert.deepEqual(i.origin, [0, 0, 0]);
  assert.equal(i.metadata.source, undefined, "the input path is not stored unless --record-source");
  assert.ok(Math.abs(i.bpp - fit.bpp) < 1e-12 && Math.abs(i.ratio - fit.ratio) < 1e-9);
  assert.match((await vmg(["info", out])).stdout, /shape\s+\[8, 128, 128\] \(z, y, x\)/);

  const file = readVmg(readFileSync(out));
  const expected = new VmgDecoder(file).decode(fullBox(file.header.shape));
  for (const name of ["d.tif", "d.zarr"]) {
    const d = await vmg(["decode", out, "-o", join(dir, name), "--quiet"]);
    assert.equal(d.code, 0, d.stderr);
    const v = await openVolume(join(dir, name));
    assert.deepEqual(v.shape, [8, 128, 128]);
    assert.deepEqual(v.data, expected, `${name} holds the decoder's values`);
  }
  const box = await vmg(["decode", out, "-o", join(dir, "b.tif"), "--scale", "1", "--box", "1:3,10:40,0:64", "--quiet"]);
  assert.equal(box.code, 0, box.stderr);
  const b = await openVolume(join(dir, "b.tif"));
  assert.deepEqual(b.shape, [2, 30, 64]);
  assert.deepEqual(b.data, new VmgDecoder(file).decode({ z0: 1, z1: 3, y0: 10, y1: 40, x0: 0, x1: 64 }, levelFactors(1)));

  const e = await vmg(["eval", out, "--ref", src, "--json"]);
  assert.equal(e.code, 0, e.stderr);
  const m = JSON.parse(e.stdout);
  assert.equal(m.psnr, fit.psnr, "eval reproduces the metrics compress reported");
  assert.equal(m.ssim, fit.ssim);
  assert.equal(m.peak, 57562 - 3651);
});

test("bad input: one-line errors naming the file, non-zero exit", async () => {
  const good = writeVmg(randomFile([8, 9, 10], 6));
  const corrupt = good.slice(); corrupt[200]! ^= 0xff;
  writeFileSync(join(dir, "corrupt.vmg"), corrupt);
  writeFileSync(join(dir, "short.vmg"), good.subarray(0, 150));
  writeFileSync(join(dir, "page.vmg"), "<html>404</html>");
  writeFileSync(join(dir, "good.vmg"), good);
  const cases: Array<[string[], number, RegExp]> = [
    [["info", join(dir, "missing.vmg")], 1, /^vmg: .*missing\.vmg: no such file\n$/],
    [["info", join(dir, "corrupt.vmg")], 1, /^vmg: .*corrupt\.vmg: checksum mismatch/],
    [["info", join(dir, "short.vmg")], 1, /^vmg: .*short\.vmg: truncated/],
    [["info", join(dir, "page.vmg")], 1, /^vmg: .*page\.vmg: not a \.vmg file/],
    [["decode", join(dir, "good.vmg"), "-o", join(dir, "x.tif"), "--box", "0:9,0:9,0:10"], 1, /box z range 0:9 is outside 0:8/],
    [["decode", join(dir, "good.vmg"), "-o", join(dir, "x.tif"), "--box", "nonsense"], 2, /--box must look like/],
    [["decode", join(dir, "good.vmg")], 2, /usage: vmg decode/],
    [["compress", "in.tif", "-o", "o.vmg", "--bpp", "0.1", "--size", "100"], 2, /give one budget/],
    [["compress", join(dir, "nothing.tif"), "-o", join(dir, "o.vmg")], 1, /nothing\.tif/],
    [["frobnicate"], 2, /unknown command "frobnicate"/],
    [["info", "a.vmg", "--bogus"], 2, /unknown option --bogus/],
  ];
  for (const [args, code, re] of cases) {
    const r = await vmg(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
  }
});

test("compress refuses a 2D image and a zarr store with a missing chunk", async () => {
  const plane = join(dir, "plane.tif");
  await writeVolume(plane, { shape: [1, 40, 50], dtype: "uint8", data: Uint8Array.from({ length: 2000 }, (_, i) => (i * 7) % 251) });
  const r2d = await vmg(["compress", plane, "-o", join(dir, "p.vmg")]);
  assert.equal(r2d.code, 1);
  assert.match(r2d.stderr, /plane\.tif: is not a 3D volume/);

  const store = join(dir, "holes.zarr");
  await writeVolume(store, { shape: [20, 30, 30], dtype: "uint16", data: Uint16Array.from({ length: 18000 }, (_, i) => i % 1000) }, { chunks: [10, 30, 30] });
  rmSync(join(store, "0", "c", "1", "0", "0"));
  const rz = await vmg(["compress", store, "-o", join(dir, "z.vmg"), "--strict"]);
  assert.equal(rz.code, 1);
  assert.match(rz.stderr, /^vmg: .*holes\.zarr: missing zarr chunk 0\/c\/1\/0\/0 \(refused by --strict/);
  // without --strict the absent chunk is the fill value, as zarr specifies
  const ok = await vmg(["compress", store, "-o", join(dir, "z.vmg"), "--gaussians", "4", "--iterations", "3", "--json"]);
  assert.equal(ok.code, 0, ok.stderr);
});

test("vmg <command> --help prints that command's usage and exits 0", async () => {
  for (const [cmd, re] of [["compress", /usage: vmg compress[\s\S]*--record-source/], ["decode", /--zarr-format 2/], ["eval", /--strict/], ["info", /usage: vmg info/], ["convert", /usage: vmg convert/]] as const) {
    const r = await vmg([cmd, "--help"]);
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
    assert.match(r.stdout, re);
    assert.equal((await vmg([cmd, "-o", "x", "-h"])).code, 0);
  }
  assert.match((await vmg(["--help"])).stdout, /vmg <command> --help/);
});

test("the same data under two paths gives the same file; --record-source stores the path", async () => {
  const data = { shape: [6, 20, 20] as [number, number, number], dtype: "uint8" as const, data: Uint8Array.from({ length: 2400 }, (_, i) => ((i * 37) % 97) + (i % 20 === 7 ? 120 : 0)) };
  const a = join(dir, "a.tif"), b = join(dir, "some", "much", "longer", "directory", "name", "for", "the", "very", "same", "volume.tif");
  mkdirSync(dirname(b), { recursive: true });
  await writeVolume(a, data);
  await writeVolume(b, data);
  const args = ["--gaussians", "6", "--iterations", "4", "--seed", "3", "--threads", "1", "--quiet"];
  for (const [input, out] of [[a, "a.vmg"], [b, "b.vmg"]] as const) assert.equal((await vmg(["compress", input, "-o", join(dir, out), ...args])).code, 0);
  assert.deepEqual(readFileSync(join(dir, "a.vmg")), readFileSync(join(dir, "b.vmg")));
  assert.equal((await vmg(["compress", b, "-o", join(dir, "r.vmg"), ...args, "--record-source"])).code, 0);
  assert.equal(getMetadata(readVmg(readFileSync(join(dir, "r.vmg")))).source, b.slice(-64));
});

test("a decode to TIFF stopped by SIGINT or SIGTERM mid-way exits non-zero and leaves neither the TIFF nor its temporary file", async () => {
  await vmg(["decode", "--help"]); // the compiled CLI, built once
  const out = join(dir, "stopped");
  mkdirSync(out);
  const file = join(out, "big.vmg");
  writeFileSync(file, writeVmg(randomFile([128, 512, 512], 4000, 3, { maxScale: 6 })));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const child = spawn(process.execPath, [BIN, "decode", file, "-o", join(out, "out.tif"), "--quiet"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b) => { stderr += b; });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // the temporary TIFF exists from before the first slab is decoded: stop the decode then
    while (!readdirSync(out).some((n) => n.endsWith(".tmp"))) await new Promise((r) => setTimeout(r, 5));
    child.kill(signal);
    assert.equal(await exited, 1, `${signal}: ${stderr}`);
    assert.match(stderr, /^vmg: .*aborted/);
    assert.deepEqual(readdirSync(out), ["big.vmg"], `${signal}: the partial TIFF is removed`);
  }
});
