/** The compiled `vmg` (dist/cli/): its worker threads, and stack traces that name the TypeScript sources. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, test } from "node:test";
import { boxVoxels, fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { readVmg, writeVmg } from "../src/format/vmg.js";
import { IN_PROCESS_VOXELS } from "../src/node/decode-pool.js";
import { openVolume } from "../src/node/open-volume.js";
import { vmg } from "./helpers/cli.js";
import { randomFile } from "./helpers/files.js";

const dir = mkdtempSync(join(tmpdir(), "vmg-compiled-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the compiled vmg decodes a large volume in tiles (decode) and on its worker threads (eval), equal to the decoder", async () => {
  const bytes = writeVmg(randomFile([20, 240, 240], 400, 3, { maxScale: 5 }));
  const file = readVmg(bytes);
  assert.ok(boxVoxels(fullBox(file.header.shape)) > IN_PROCESS_VOXELS, "the full box is cut into tiles (eval: for the workers)");
  writeFileSync(join(dir, "big.vmg"), bytes);
  const r = await vmg(["decode", join(dir, "big.vmg"), "-o", join(dir, "big.tif"), "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await openVolume(join(dir, "big.tif"))).data, new VmgDecoder(file).decode(fullBox(file.header.shape)));
  // vmg eval decodes through the pool's workers (compiled decode-worker.js): against that TIFF, no error at all
  const e = await vmg(["eval", join(dir, "big.vmg"), "--ref", join(dir, "big.tif"), "--json", "--quiet"]);
  assert.equal(e.code, 0, e.stderr);
  assert.equal((JSON.parse(e.stdout) as { mse: number }).mse, 0);
});

test("with VMG_DEBUG, an error's stack trace names lines of the .ts sources", async () => {
  const bytes = writeVmg(randomFile([8, 16, 16], 5));
  bytes[bytes.length - 1]! ^= 0xff; // breaks the CRC
  writeFileSync(join(dir, "bad.vmg"), bytes);
  const r = await vmg(["info", join(dir, "bad.vmg")], { VMG_DEBUG: "1" });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^vmg: .*bad\.vmg: /);
  assert.match(r.stderr, /src[\\/]format[\\/]\w+\.ts:\d+:\d+/, r.stderr);
  assert.doesNotMatch(r.stderr, /dist[\\/]cli/, r.stderr);
});

test("vmg decode of a .vmg to TIFF loads neither the zarr nor the TIFF-reading packages (a command's start)", async () => {
  writeFileSync(join(dir, "small.vmg"), writeVmg(randomFile([6, 40, 50], 30, 4)));
  // a resolve hook, registered before vmg starts, logs every module the process loads
  const log = join(dir, "modules.log");
  writeFileSync(join(dir, "hooks.mjs"), `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) { const r = await next(specifier, context); appendFileSync(${JSON.stringify(log)}, r.url + "\\n"); return r; }`);
  writeFileSync(join(dir, "register.mjs"), `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});`);
  const r = await vmg(["decode", join(dir, "small.vmg"), "-o", join(dir, "small.tif"), "--quiet"], { NODE_OPTIONS: `--import ${pathToFileURL(join(dir, "register.mjs")).href}` });
  assert.equal(r.code, 0, r.stderr);
  const loaded = readFileSync(log, "utf8");
  assert.match(loaded, /dist\/cli\/main\.js/, "the hook saw vmg's own modules");
  for (const pkg of ["zarrita", "geotiff"]) assert.doesNotMatch(loaded, new RegExp(`node_modules/${pkg}/`), `${pkg} was loaded`);
});
