/** The `vmg` command: dispatch, and one-line errors `vmg: <file>: <problem>` with a non-zero exit. */
import { UsageError } from "./args.js";

interface Command { run: (argv: string[]) => Promise<void>; usage: string }

// Each command is imported when it runs (or prints its usage), so `vmg info` does not load the
// fitter, zarr or TIFF code.
const COMMANDS: Record<string, () => Promise<Command>> = {
  info: async () => { const m = await import("./info.js"); return { run: m.infoCommand, usage: m.INFO_USAGE }; },
  compress: async () => { const m = await import("./compress.js"); return { run: m.compressCommand, usage: m.COMPRESS_USAGE }; },
  convert: async () => { const m = await import("./convert.js"); return { run: m.convertCommand, usage: m.CONVERT_USAGE }; },
  decode: async () => { const m = await import("./decode.js"); return { run: m.decodeCommand, usage: m.DECODE_USAGE }; },
  eval: async () => { const m = await import("./eval.js"); return { run: m.evalCommand, usage: m.EVAL_USAGE }; },
  worker: async () => { const m = await import("./worker.js"); return { run: m.workerCommand, usage: m.WORKER_USAGE }; },
  status: async () => { const m = await import("./status.js"); return { run: m.statusCommand, usage: m.STATUS_USAGE }; },
};

const HELP = `vmg — VolMicro Gaussian volumes

  vmg info <file.vmg> [--json]
  vmg compress <input> -o <out.vmg> [--bpp B | --gaussians N | --size BYTES] [--seed S] [--iterations K]
               [--log curves.jsonl] [--plot curves.svg] [--json]   (vmg compress --help: all switches)
  vmg compress <input> -o <out.ome.zarr> [--bpp B | --size BYTES] [--chunk N] [--shard M] [--halo H]
               (a chunked store: OME-Zarr 0.5, codec volmicro.gaussians; info, decode, eval read it)
               [--blocks i/N | --resume | --queue redis://host:port/db [--detach]]
  vmg worker redis://host:port/db [--threads T] [--lock-seconds S]   (process queued block jobs)
  vmg status redis://host:port/db [--store PATH] [--json]            (progress of queued stores)
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
  const load = COMMANDS[command];
  if (!load) {
    console.error(`vmg: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  // Help wins over everything else on the line (before `--`), as users expect of `cmd … --help`.
  const end = rest.indexOf("--");
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === "--help" || a === "-h")) {
    console.log((await load()).usage);
    return 0;
  }
  try {
    await (await load()).run(rest);
    return 0;
  } catch (e) {
    const err = e as Error;
    console.error(`vmg: ${err.message}`);
    if (process.env.VMG_DEBUG) console.error(err.stack);
    return e instanceof UsageError ? 2 : 1;
  }
}
