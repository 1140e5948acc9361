/**
 * "Compress this layer" refuses a layer too large for the page instead of running out of memory:
 * a zarr array whose metadata declares 2048³ uint16 voxels (no chunk exists: Neuroglancer shows
 * the fill value) gets the refusal with the equivalent `vmg compress … -o <name>.ome.zarr --bpp B`
 * command, following the budget; a small "current view" block of the same layer may start.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openViewer, startEnv, type Env } from "./harness.js";

const N = 2048;
let env: Env;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "vmg-refusal-"));
  mkdirSync(join(dir, "big.zarr"));
  writeFileSync(join(dir, "big.zarr", "zarr.json"), JSON.stringify({
    zarr_format: 3, node_type: "array", shape: [N, N, N], data_type: "uint16",
    chunk_grid: { name: "regular", configuration: { chunk_shape: [64, 64, 64] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    codecs: [{ name: "bytes", configuration: { endian: "little" } }], fill_value: 0, dimension_names: ["z", "y", "x"],
  }));
  env = await startEnv(dir);
});
after(async () => { await env?.close(); rmSync(dir, { recursive: true, force: true }); });

test("a layer too large for the page is refused with the equivalent vmg compress command; a small view of it is not", async () => {
  const state = {
    dimensions: { x: [1, ""], y: [1, ""], z: [1, ""] },
    position: [N / 2, N / 2, N / 2],
    crossSectionScale: 0.25,
    layout: "xy",
    layers: [{ type: "image", name: "brain", source: `zarr://${env.server.url}data/big.zarr/`, tab: "volmicro" }],
    selectedLayer: { layer: "brain", visible: true, size: 420 },
  };
  const { page, errors } = await openViewer(env, state, "", false);
  try {
    const refusal = ".volmicro-compress .volmicro-refusal";
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "") !== "", { timeout: 90_000 }, refusal);
    const text = await page.$eval(refusal, (e) => e.textContent ?? "");
    const command = `vmg compress ${env.server.url}data/big.zarr/ -o brain.ome.zarr --bpp 0.073`;
    assert.match(text, /The region has 8589\.9 M voxels; fitting it in this page needs about 352\.0 GiB of memory, more than the 1\.25 GiB/);
    assert.ok(text.includes(command), text);
    assert.equal(await page.$eval(`${refusal} .volmicro-cli-command`, (e) => (e as HTMLInputElement).value), command);
    assert.equal(await page.$eval(".volmicro-compress .volmicro-start", (e) => (e as HTMLButtonElement).disabled), true);
    // The command follows the budget.
    await page.$eval(".volmicro-compress .volmicro-budget-value", (e) => {
      (e as HTMLInputElement).value = "0.2";
      e.dispatchEvent(new Event("input"));
    });
    assert.equal(await page.$eval(`${refusal} .volmicro-cli-command`, (e) => (e as HTMLInputElement).value), command.replace("0.073", "0.2"));
    // The refusal is about the region: the current view (4 pixels per voxel) is small enough to fit here.
    await page.select(".volmicro-compress .volmicro-region", "view");
    assert.equal(await page.$eval(refusal, (e) => e.textContent ?? ""), "");
    assert.equal(await page.$eval(".volmicro-compress .volmicro-start", (e) => (e as HTMLButtonElement).disabled), false);
    assert.match(await page.$eval(".volmicro-compress .volmicro-estimate", (e) => e.textContent ?? ""), /M voxels \(box x /);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
