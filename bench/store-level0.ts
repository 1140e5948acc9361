/**
 * `node --import tsx bench/store-level0.ts <store.ome.zarr> <reference volume>`: the finest level of
 * a written store against its input, as bench:store scores it (PSNR/SSIM, voxels within 2 of an
 * internal chunk face against the rest) and the level's bytes, without fitting the single-file
 * comparison (bench:store fits it; this is for a store whose comparison is already known).
 */
import { evaluate } from "../src/metrics/evaluate.js";
import { gaussianStoreInfo, readGaussianStore } from "../src/node/store-reader.js";
import { openVolume } from "../src/node/open-volume.js";
import { facePsnr, STORE_CHUNK } from "./store-quality.js";

const [store, input] = process.argv.slice(2);
if (!store || !input) throw new Error("usage: bench/store-level0.ts <store.ome.zarr> <reference volume>");
const ref = await openVolume(input);
const got = (await readGaussianStore(store, 0)).data;
const m = evaluate(ref.data, got, ref.shape), f = facePsnr(ref.data, got, ref.shape, STORE_CHUNK);
const info = await gaussianStoreInfo(store);
const bytes = info.levels.reduce((n, l) => n + l.bytes, 0);
console.log(JSON.stringify({ store_psnr: m.psnr, store_ssim: m.ssim, face_psnr: f.face, interior_psnr: f.interior, finest_level_bytes: info.levels[0]!.bytes, level_bytes: info.levels.map((l) => l.bytes), levels_bytes: bytes }));
