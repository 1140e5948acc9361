/**
 * `vmg://` source URLs. What follows the scheme is an http(s) URL, a URL relative to the page, a
 * `data:` URL (the file inline, base64) or a `blob:` URL, optionally followed by a layer option
 * fragment `#decode=cpu|webgpu|auto`.
 */
import { registerErrorClasses, VmgError } from "../core/errors.js";
import { isDecodeMode, type DecodeMode } from "./base.js";

export const VMG_SCHEME = "vmg";
const FETCHABLE = new Set(["http:", "https:", "data:", "blob:"]);
const DECODE_OPTION = /#decode=([a-z]*)$/;

export class VmgUrlError extends VmgError {
  static override readonly tag: string = "viewer/url";
}
registerErrorClasses(VmgUrlError);

export interface VmgSourceUrl {
  /** Absolute URL the worker fetches. */
  url: string;
  /** Decode mode requested by the layer, when the source URL names one. */
  decode: DecodeMode | undefined;
}

/** Parse the part after `vmg://`; `base` resolves relative URLs (the page's address). */
export function parseVmgUrl(providerUrl: string, base: string): VmgSourceUrl {
  let rest = providerUrl.trim();
  let decode: DecodeMode | undefined;
  const m = DECODE_OPTION.exec(rest);
  if (m) {
    const mode = m[1]!;
    if (!isDecodeMode(mode)) throw new VmgUrlError(`unknown decode option "${mode}" (use cpu, webgpu or auto)`);
    decode = mode;
    rest = rest.slice(0, m.index);
  }
  if (rest === "") throw new VmgUrlError(`empty ${VMG_SCHEME}:// URL: expected vmg://<http(s), relative, data: or blob: URL>`);
  let url: URL;
  try {
    url = new URL(rest, base);
  } catch {
    throw new VmgUrlError(`cannot parse "${rest}" as a URL`);
  }
  if (!FETCHABLE.has(url.protocol)) {
    throw new VmgUrlError(`unsupported URL scheme "${url.protocol}" in vmg://${rest} (use http(s), a relative URL, data: or blob:)`);
  }
  return { url: url.href, decode };
}

/**
 * The `zarr://` source a `vmg://` URL of a chunked store redirects to, or undefined for a file. A
 * store is a directory named `*.zarr` (`vmg compress … -o out.ome.zarr`); told by its name so that
 * opening a `.vmg` costs no probe request.
 */
export function storeRedirect(src: VmgSourceUrl): string | undefined {
  const u = new URL(src.url);
  if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
  if (!/\.zarr\/?$/i.test(u.pathname)) return undefined;
  if (src.decode !== undefined) throw new VmgUrlError(`#decode=${src.decode} applies to .vmg files; a store (${src.url}) follows the page's ?vmgDecode=`);
  return `zarr://${src.url}`;
}

/** The decode mode in force: the page's `?vmgDecode=` wins (a global switch), then the layer's option. */
export function effectiveDecodeMode(pageQuery: string, layer: DecodeMode | undefined): DecodeMode {
  const page = new URLSearchParams(pageQuery).get("vmgDecode");
  if (page !== null && isDecodeMode(page)) return page;
  return layer ?? "auto";
}
