/** `vmg decode <file.vmg> -o <out.tif|out.zarr> [--scale K] [--box z0:z1,y0:y1,x0:x1]` */
import type { Box } from "../core/background.js";
import { boxVoxels, fullBox, levelFactors, scaledShape } from "../decode/decoder.js";
import { DecodePool } from "../node/decode-pool.js";
import { loadVmg } from "../node/vmg-file.js";
import { writeVolume } from "../node/atomic-write.js";
import { numberFlag, parseArgs, stringFlag, UsageError } from "./args.js";
import { ProgressBar } from "./progress.js";

const USAGE = "usage: vmg decode <file.vmg> -o <out.tif|out.zarr> [--scale K] [--box z0:z1,y0:y1,x0:x1] [--quiet]";

export function parseBox(text: string): Box {
  const m = /^(\d+):(\d+),(\d+):(\d+),(\d+):(\d+)$/.exec(text.replace(/\s+/g, ""));
  if (!m) throw new UsageError(`--box must look like z0:z1,y0:y1,x0:x1 (got "${text}")`);
  const [z0, z1, y0, y1, x0, x1] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return { z0, z1, y0, y1, x0, x1 };
}

export async function decodeCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, { output: { value: true, alias: "o" }, scale: { value: true }, box: { value: true }, quiet: {} });
  const out = stringFlag(p, "output");
  if (p.positionals.length !== 1 || !out) throw new UsageError(USAGE);
  const source = p.positionals[0]!;
  const level = numberFlag(p, "scale", { integer: true, min: 0, max: 30 }) ?? 0;
  const { bytes, file } = await loadVmg(source);
  const factors = levelFactors(level);
  const shape = scaledShape(file.header.shape, factors);
  const boxText = stringFlag(p, "box");
  const box = boxText ? parseBox(boxText) : fullBox(shape);
  const bar = new ProgressBar("decode", p.flags.has("quiet"));
  const pool = await DecodePool.create(bytes, undefined, source);
  try {
    const data = await pool.decode({ factors, box, onProgress: (d, t) => bar.update(d / t) });
    bar.done(`${boxVoxels(box)} voxels`);
    const h = file.header;
    const f = factors;
    await writeVolume(out, {
      shape: [box.z1 - box.z0, box.y1 - box.y0, box.x1 - box.x0],
      dtype: h.dtype,
      data,
      voxelSize: [h.voxelSize[0] * f[2], h.voxelSize[1] * f[1], h.voxelSize[2] * f[0]],
      unit: h.unit,
    });
  } finally {
    await pool.close();
  }
}
