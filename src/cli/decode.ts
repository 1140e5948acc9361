/** `vmg decode <file.vmg> -o <out.tif|out.zarr> [--scale K] [--box z0:z1,y0:y1,x0:x1]` */
import type { Box } from "../core/background.js";
import type { VoxelArray } from "../core/dtype.js";
import { boxVoxels, fullBox, levelFactors, scaledShape } from "../decode/decoder.js";
import { DecodePool, ONE_THREAD_VOXELS } from "../node/decode-pool.js";
import { loadVmg } from "../node/vmg-file.js";
import { openTiffStack, volumeFormat, writeVolume, type TiffStackWriter } from "../node/atomic-write.js";
import { numberFlag, parseArgs, stringFlag, UsageError } from "./args.js";
import { ProgressBar } from "./progress.js";
import { basename } from "node:path";
import { stat } from "node:fs/promises";

export const DECODE_USAGE = `usage: vmg decode <file.vmg> -o <out.tif|out.zarr> [--scale K] [--box z0:z1,y0:y1,x0:x1] [--zarr-format 2|3] [--quiet]

  --scale K        decode at scale 2^K (box coordinates are in that scale's voxels)
  --box            a half-open sub-box; the output's origin is that box's corner
  --zarr-format 2  zarr v2 with OME-Zarr 0.4 metadata, for older readers (default 3: OME-Zarr 0.5)
  <store.ome.zarr> a chunked Gaussian store: --level L picks its level (box in that level's voxels)`;

export function parseBox(text: string): Box {
  const m = /^(\d+):(\d+),(\d+):(\d+),(\d+):(\d+)$/.exec(text.replace(/\s+/g, ""));
  if (!m) throw new UsageError(`--box must look like z0:z1,y0:y1,x0:x1 (got "${text}")`);
  const [z0, z1, y0, y1, x0, x1] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return { z0, z1, y0, y1, x0, x1 };
}

export async function decodeCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, { output: { value: true, alias: "o" }, scale: { value: true }, box: { value: true }, quiet: {}, "zarr-format": { value: true }, level: { value: true } });
  const out = stringFlag(p, "output");
  if (p.positionals.length !== 1 || !out) throw new UsageError(DECODE_USAGE);
  const zarrFormat = stringFlag(p, "zarr-format") ?? "3";
  if (zarrFormat !== "2" && zarrFormat !== "3") throw new UsageError(`--zarr-format must be 2 or 3, got "${zarrFormat}"`);
  const source = p.positionals[0]!;
  const level = numberFlag(p, "scale", { integer: true, min: 0, max: 30 }) ?? 0;
  // a store is a directory: only then are the store modules (zarrita and all) loaded
  const directory = await stat(source).then((s) => s.isDirectory(), () => false);
  if (directory && await (await import("../node/store-reader.js")).isGaussianStore(source)) {
    const { storeDecode } = await import("./store-commands.js");
    if (p.flags.has("scale")) throw new UsageError(`${source} is a store: pick one of its levels with --level L (--scale is for .vmg files)`);
    const boxText = stringFlag(p, "box");
    return storeDecode(source, out, numberFlag(p, "level", { integer: true, min: 0 }) ?? 0, boxText ? parseBox(boxText) : undefined, zarrFormat === "2" ? 2 : 3);
  }
  if (p.flags.has("level")) throw new UsageError("--level applies to a store (a .vmg file has scales: --scale K)");
  const { bytes, file } = await loadVmg(source);
  const factors = levelFactors(level);
  const shape = scaledShape(file.header.shape, factors);
  const boxText = stringFlag(p, "box");
  const box = boxText ? parseBox(boxText) : fullBox(shape);
  const bar = new ProgressBar("decode", p.flags.has("quiet"));
  const h = file.header;
  const f = [factors[2], factors[1], factors[0]]; // z, y, x
  const corner = [box.z0, box.y0, box.x0];
  const meta = {
    shape: [box.z1 - box.z0, box.y1 - box.y0, box.x1 - box.x0] as [number, number, number],
    dtype: h.dtype,
    voxelSize: [h.voxelSize[0] * f[0]!, h.voxelSize[1] * f[1]!, h.voxelSize[2] * f[2]!] as [number, number, number],
    unit: h.unit,
    // A coarse voxel i covers fine voxels f·i … f·i + f − 1: its centre is at f·i + (f − 1)/2.
    origin: [0, 1, 2].map((k) => h.origin[k]! + h.voxelSize[k]! * (f[k]! * corner[k]! + (f[k]! - 1) / 2)) as [number, number, number],
  };
  const pool = await DecodePool.create(bytes, boxVoxels(box) <= ONE_THREAD_VOXELS ? 1 : undefined, source, { callerDecodes: true, parsed: file });
  let tiff: TiffStackWriter | undefined;
  // Ctrl-C or SIGTERM stops the decode and removes the partial TIFF (a thrown error does the same)
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    // a TIFF is written slab by slab while the next decodes; a zarr store once it is all decoded
    if (volumeFormat(out) === "tiff") tiff = await openTiffStack(out, meta);
    let output: VoxelArray | undefined;
    const data = await pool.decode({
      factors, box, signal: stop.signal, onProgress: (d, t) => bar.update(d / t),
      ...(tiff ? { onOutput: (o: VoxelArray) => { output = o; }, onSlices: (z0: number, z1: number) => tiff!.planes(output!, z0, z1) } : {}),
    });
    bar.done(`${boxVoxels(box)} voxels`);
    if (tiff) await tiff.commit();
    else await writeVolume(out, { ...meta, data }, { zarrFormat: zarrFormat === "2" ? 2 : 3, name: basename(source).replace(/\.vmg$/i, "") });
  } catch (e) {
    await tiff?.abort();
    throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await pool.close();
  }
}
