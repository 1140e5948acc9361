/** A small, strict argument parser: unknown flags and missing values are usage errors. */
import type { OpenVolumeOptions } from "../node/open-volume.js";
import { registerErrorClasses, VmgError } from "../core/errors.js";

export class UsageError extends VmgError {
  static override readonly tag: string = "cli/usage";
}
registerErrorClasses(UsageError);

export interface FlagSpec {
  /** Flag takes a value (otherwise boolean). */
  value?: boolean;
  alias?: string;
}

export interface Parsed {
  positionals: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>): Parsed {
  const byAlias = new Map(Object.entries(spec).filter(([, s]) => s.alias).map(([n, s]) => [s.alias!, n]));
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") { positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith("-") || arg === "-") { positionals.push(arg); continue; }
    let name: string, inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      name = byAlias.get(arg.slice(1)) ?? arg.slice(1);
    }
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option ${arg}`);
    if (s.value) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`option --${name} needs a value`);
      flags.set(name, v);
    } else {
      if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
      flags.set(name, true);
    }
  }
  return { positionals, flags };
}

export function numberFlag(p: Parsed, name: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || v.trim() === "" || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    const kind = opts.integer ? "an integer" : "a number";
    const range = opts.min !== undefined ? (opts.max !== undefined ? ` in ${opts.min}..${opts.max}` : ` ≥ ${opts.min}`) : "";
    throw new UsageError(`--${name} must be ${kind}${range}, got "${String(v)}"`);
  }
  return n;
}

export function stringFlag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

/** How `compress` and `eval` open their input: `--level`, and `--strict` for absent zarr chunks. */
export function readOptions(p: Parsed, level: number | undefined): OpenVolumeOptions {
  const o: OpenVolumeOptions = {};
  if (level !== undefined) o.level = level;
  if (p.flags.has("strict")) o.strict = true;
  return o;
}
