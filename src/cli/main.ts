/** The `vmg` command: dispatch, and one-line errors `vmg: <file>: <problem>` with a non-zero exit. */
import { UsageError } from "./args.js";
import { compressCommand } from "./compress.js";
import { convertCommand } from "./convert.js";
import { decodeCommand } from "./decode.js";
import { evalCommand } from "./eval.js";
import { infoCommand } from "./info.js";

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  info: infoCommand,
  compress: compressCommand,
  convert: convertCommand,
  decode: decodeCommand,
  eval: evalCommand,
};

const HELP = `vmg — VolMicro Gaussian volumes

  vmg info <file.vmg> [--json]
  vmg compress <input> -o <out.vmg> [--bpp B | --gaussians N | --size BYTES] [--seed S] [--iterations K]
               [--log curves.jsonl] [--plot curves.svg] [--json]   (vmg compress --help: all switches)
  vmg decode <file.vmg> -o <out.tif|out.zarr> [--scale K] [--box z0:z1,y0:y1,x0:x1]
  vmg eval <file.vmg> --ref <volume> [--level L] [--json]
  vmg convert <in.vmg> -o <out.vmg> --encoding packed|f16 [--json]

Volumes: multi-page TIFF stacks, zarr v2/v3 and OME-Zarr stores (directory or http(s) URL).`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") {
    console.log(HELP);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`vmg: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (e) {
    const err = e as Error;
    console.error(`vmg: ${err.message}`);
    if (process.env.VMG_DEBUG) console.error(err.stack);
    return e instanceof UsageError ? 2 : 1;
  }
}
