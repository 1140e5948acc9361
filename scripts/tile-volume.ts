/**
 * `node --import tsx scripts/tile-volume.ts <input> <out.zarr> <rz,ry,rx>`: the input (TIFF, zarr)
 * repeated rz × ry × rx times as a zarr v3 array, written block by block (src/node/tile-volume.ts).
 */
import type { Shape3 } from "../src/core/gaussian.js";
import { openVolumeSource } from "../src/node/open-volume.js";
import { writeTiledZarr } from "../src/node/tile-volume.js";

const [input, out, reps] = process.argv.slice(2);
const r = reps?.split(",").map(Number);
if (!input || !out || !r || r.length !== 3 || !r.every((k) => Number.isInteger(k) && k >= 1)) {
  console.error("usage: tile-volume.ts <input> <out.zarr> <rz,ry,rx>");
  process.exit(2);
}
const shape = await writeTiledZarr(await openVolumeSource(input), r as unknown as Shape3, out);
console.log(JSON.stringify({ out, shape }));
