/** `vmg info <file.vmg> [--json]` */
import { DTYPES } from "../core/dtype.js";
import { bitsPerVoxel, getMetadata } from "../format/vmg.js";
import { loadVmg } from "../node/vmg-file.js";
import { parseArgs, UsageError } from "./args.js";
import { stat } from "node:fs/promises";

export const INFO_USAGE = "usage: vmg info <file.vmg|store.ome.zarr> [--json]";

export async function infoCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, { json: {} });
  if (p.positionals.length !== 1) throw new UsageError(INFO_USAGE);
  const source = p.positionals[0]!;
  // the store modules (zarr, the writer, the queue) load only for a directory: a .vmg's info stays a quick start
  const directory = await stat(source).then((s) => s.isDirectory(), () => false);
  if (directory && await (await import("../node/store-reader.js")).isGaussianStore(source)) {
    return (await import("./store-commands.js")).storeInfo(source, p.flags.has("json"));
  }
  const { bytes, file, layout } = await loadVmg(source);
  const h = file.header;
  const voxels = h.shape[0] * h.shape[1] * h.shape[2];
  const info = {
    file: source,
    version: `${layout.version[0]}.${layout.version[1]}`,
    shape: [...h.shape],
    voxel_size: [...h.voxelSize],
    unit: h.unit,
    origin: [...h.origin],
    dtype: h.dtype,
    gaussians: file.count,
    bytes: bytes.length,
    bpp: bitsPerVoxel(bytes.length, h.shape),
    ratio: (voxels * DTYPES[h.dtype].bytes) / bytes.length,
    encoding: h.encoding,
    bytes_per_gaussian: file.count ? layout.payloadBytes / file.count : 0,
    background: file.background.kind === "polynomial" ? `polynomial degree ${file.background.degree}`
      : file.background.kind === "grid" ? `grid ${file.background.dims.join("x")}` : "constant",
    truncation_sigma: h.truncation,
    value_mapping: { offset: h.valueOffset, scale: h.valueScale },
    metadata: getMetadata(file),
  };
  if (p.flags.has("json")) {
    console.log(JSON.stringify(info));
    return;
  }
  const rows: Array<[string, string]> = [
    ["file", source],
    ["format", `.vmg ${info.version}, encoding ${info.encoding} (${info.bytes_per_gaussian.toFixed(2)} bytes/Gaussian)`],
    ["shape", `[${info.shape.join(", ")}] (z, y, x)`],
    ["voxel size", `[${info.voxel_size.join(", ")}] ${h.unit || "(no unit)"}`],
    ["origin", `[${info.origin.join(", ")}] ${h.unit || "(no unit)"} (centre of voxel 0, z, y, x)`],
    ["dtype", h.dtype],
    ["gaussians", String(file.count)],
    ["background", info.background],
    ["truncation", `${h.truncation} sigma`],
    ["value", `${h.valueOffset} + ${h.valueScale} × field`],
    ["bytes", String(bytes.length)],
    ["bpp", info.bpp.toFixed(4)],
    ["ratio", `${info.ratio.toFixed(1)}×`],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(11)} ${v}`);
}
