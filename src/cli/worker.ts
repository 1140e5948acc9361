/** `vmg worker redis://host:port/db [--threads T] [--lock-seconds S]`: process the block jobs of every store queued there. */
import { availableParallelism } from "node:os";
import { numberFlag, parseArgs, UsageError } from "./args.js";
import { queueUrl } from "./store-commands.js";

export const WORKER_USAGE = `usage: vmg worker redis://host:port/db [--threads T] [--lock-seconds S] [--quiet]

  Processes the jobs that vmg compress … --queue redis://host:port/db queued, for every store
  queued in that Redis database, until stopped (Ctrl-C or SIGTERM: it finishes its jobs in flight).
  Block fits run in sandboxed worker threads, T at once (default: every core); the store and the
  input must be reachable here at the paths the coordinator was given.
  --lock-seconds S  job lock (default 30, renewed every S/2): a job of a worker that died goes back
                    to the queue within about 2S and another worker takes it
  --quiet           print nothing but errors (default: one line per job)`;

export async function workerCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, { threads: { value: true }, "lock-seconds": { value: true }, quiet: {} });
  if (p.positionals.length !== 1) throw new UsageError(WORKER_USAGE);
  const url = queueUrl(p.positionals[0]!);
  const threads = numberFlag(p, "threads", { integer: true, min: 1 }) ?? availableParallelism();
  const lockSeconds = numberFlag(p, "lock-seconds", { min: 0.5 }) ?? 30;
  const quiet = p.flags.has("quiet");
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const { runWorker } = await import("../queue/worker.js");
  try {
    await runWorker(url, { threads, lockMs: Math.round(lockSeconds * 1000), signal: stop.signal, log: (line) => { if (!quiet) process.stderr.write(`worker: ${line}\n`); } });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
