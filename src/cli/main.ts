/** The `vmg` command: dispatch, and one-line errors `vmg: <file>: <problem>` with a non-zero exit. */
import { UsageError } from "./args.js";
import { COMPRESS_USAGE, compressCommand } from "./compress.js";
import { CONVERT_USAGE, convertCommand } from "./convert.js";
import { DECODE_USAGE, decodeCommand } from "./decode.js";
import { EVAL_USAGE, evalCommand } from "./eval.js";
import { INFO_USAGE, infoCommand } from "./info.js";

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
  info: { run: infoCommand, usage: INFO_USAGE },
  compress: { run: compressCommand, usage: COMPRESS_USAGE },
  convert: { run: convertCommand, usage: CONVERT_USAGE },
  decode: { run: decodeCommand, usage: DECODE_USAGE },
  eval: { run: evalCommand, usage: EVAL_USAGE },
};

const HELP = `vmg — VolMicro Gaussian volumes

  vmg info <file.vmg> [--json]
  vmg compress <input> -o <out.vmg> [--bpp B | --gaussians N | --size BYTES] [--seed S] [--iterations K]
               [--log curves.jsonl] [--plot curves.svg] [--json]   (vmg compress --help: all switches)
  vmg compress <input> -o <out.ome.zarr> [--bpp B | --size BYTES] [--chunk N] [--shard M] [--halo H]
               (a chunked store: OME-Zarr 0.5, codec volmicro.gaussians; info, decode, eval read it)
  vmg decode <file.vmg> -o <out.tif|out.zarr> [--scale K] [--box z0:z1,y0:y1,x0:x1] [--zarr-format 2]
  vmg eval <file.vmg> --ref <volume> [--level L] [--json]
  vmg convert <in.vmg> -o <out.vmg> --encoding packed|f16 [--json]

Volumes: multi-page TIFF stacks, zarr v2/v3 and OME-Zarr stores (directory or http(s) URL).
vmg <command> --help prints that command's usage.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") {
    console.log(HELP);
    return command ? 0 : 2;
  }
  const cmd = COMMANDS[command];
  if (!cmd) {
    console.error(`vmg: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  // Help wins over everything else on the line (before `--`), as users expect of `cmd … --help`.
  const end = rest.indexOf("--");
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === "--help" || a === "-h")) {
    console.log(cmd.usage);
    return 0;
  }
  try {
    await cmd.run(rest);
    return 0;
  } catch (e) {
    const err = e as Error;
    console.error(`vmg: ${err.message}`);
    if (process.env.VMG_DEBUG) console.error(err.stack);
    return e instanceof UsageError ? 2 : 1;
  }
}
