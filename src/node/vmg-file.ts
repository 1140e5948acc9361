/** Load a `.vmg` from a path or an http(s) URL, with errors that name it. */
import { readFile } from "node:fs/promises";
import { readVmg, type VmgFile } from "../format/vmg.js";

export class InputError extends Error {
  constructor(readonly source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = "InputError";
  }
}

export async function loadBytes(source: string): Promise<Uint8Array> {
  if (/^https?:\/\//i.test(source)) {
    let res: Response;
    try {
      res = await fetch(source);
    } catch (e) {
      throw new InputError(source, `cannot fetch (${(e as Error).message})`);
    }
    if (!res.ok) throw new InputError(source, `HTTP ${res.status} ${res.statusText}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  try {
    return new Uint8Array(await readFile(source));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "is a directory, not a .vmg file" : err.message;
    throw new InputError(source, why);
  }
}

export async function loadVmg(source: string): Promise<{ bytes: Uint8Array; file: VmgFile }> {
  const bytes = await loadBytes(source);
  return { bytes, file: readVmg(bytes, { file: source }) };
}
