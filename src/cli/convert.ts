/** `vmg convert <in.vmg> -o <out.vmg> --encoding packed|f16`: re-encode the Gaussian payload. */
import { encodingByName } from "../format/encodings.js";
import { vmgLayout, writeVmg } from "../format/vmg.js";
import { writeFileAtomic } from "../node/atomic-write.js";
import { loadVmg } from "../node/vmg-file.js";
import { parseArgs, stringFlag, UsageError } from "./args.js";

export const CONVERT_USAGE = "usage: vmg convert <in.vmg> -o <out.vmg> --encoding packed|f16 [--json]";

export async function convertCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, { output: { value: true, alias: "o" }, encoding: { value: true }, json: {} });
  const out = stringFlag(p, "output");
  const encoding = stringFlag(p, "encoding");
  if (p.positionals.length !== 1 || !out || !encoding) throw new UsageError(CONVERT_USAGE);
  if (encoding !== "packed" && encoding !== "f16") throw new UsageError(`--encoding must be packed or f16, got "${encoding}"`);
  encodingByName(encoding);
  const source = p.positionals[0]!;
  const { bytes, file, layout: before } = await loadVmg(source);
  // a new encoding chooses its own quantisation from the data
  const converted = writeVmg({ ...file, header: { ...file.header, encoding }, ...(file.header.encoding === encoding && file.packing ? { packing: file.packing } : { packing: undefined }) });
  await writeFileAtomic(out, converted);
  const after = vmgLayout(converted);
  const line = {
    from: file.header.encoding, to: encoding, gaussians: file.count, bytes_before: bytes.length, bytes: converted.length,
    bytes_per_gaussian: file.count ? after.payloadBytes / file.count : 0,
    bytes_per_gaussian_before: file.count ? before.payloadBytes / file.count : 0,
  };
  if (p.flags.has("json")) console.log(JSON.stringify(line));
  else console.log(`${source} (${line.from}, ${bytes.length} bytes) → ${out} (${encoding}, ${converted.length} bytes, ${line.bytes_per_gaussian.toFixed(2)} bytes/Gaussian)`);
}
