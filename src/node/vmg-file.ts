/** Load a `.vmg` from a path or an http(s) URL, with errors that name it. */
import { readFile } from "node:fs/promises";
import { registerErrorClasses, VmgError } from "../core/errors.js";
import { readVmgWithLayout, type VmgFile, type VmgLayout } from "../format/vmg.js";

/** A `.vmg` input that cannot be read: `status` is the HTTP status of a refused request. */
export class InputError extends VmgError {
  static override readonly tag: string = "io/input";
  readonly source: string;
  readonly problem: string;
  readonly status: number | undefined;
  constructor(source: string, problem: string, options?: { status?: number; cause?: unknown }) {
    super(`${source}: ${problem}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.source = source;
    this.problem = problem;
    this.status = options?.status;
  }
}
registerErrorClasses(InputError);

export async function loadBytes(source: string): Promise<Uint8Array> {
  if (/^https?:\/\//i.test(source)) {
    let res: Response;
    try {
      res = await fetch(source);
    } catch (e) {
      throw new InputError(source, `cannot fetch (${(e as Error).message})`, { cause: e });
    }
    if (!res.ok) throw new InputError(source, `HTTP ${res.status} ${res.statusText}`, { status: res.status });
    return new Uint8Array(await res.arrayBuffer());
  }
  try {
    return new Uint8Array(await readFile(source));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "is a directory, not a .vmg file" : err.message;
    throw new InputError(source, why, { cause: e });
  }
}

export async function loadVmg(source: string): Promise<{ bytes: Uint8Array; file: VmgFile; layout: VmgLayout }> {
  const bytes = await loadBytes(source);
  return { bytes, ...readVmgWithLayout(bytes, { file: source }) };
}
