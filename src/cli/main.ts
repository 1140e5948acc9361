/** The `vmg` command: dispatch, and one-line errors `vmg: <file>: <problem>` with a non-zero exit. */
import { UsageError } from "./args.js";

// Each command is imported when it runs, so `vmg info` does not load the fitter, zarr or TIFF code.
const COMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<void>>> = {
  info: async () => (await import("./info.js")).infoCommand,
  compress: async () => (await import("./compress.js")).compressCommand,
  convert: async () => (await import("./convert.js")).convertCommand,
  decode: async () => (await import("./decode.js")).decodeCommand,
  eval: async () => (await import("./eval.js")).evalCommand,
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
  const load = COMMANDS[command];
  if (!load) {
    console.error(`vmg: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  try {
    await (await load())(rest);
    return 0;
  } catch (e) {
    const err = e as Error;
    console.error(`vmg: ${err.message}`);
    if (process.env.VMG_DEBUG) console.error(err.stack);
    return e instanceof UsageError ? 2 : 1;
  }
}
