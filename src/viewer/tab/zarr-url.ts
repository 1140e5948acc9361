/**
 * The http(s) URL of the zarr store behind a Neuroglancer source URL, in either syntax Neuroglancer
 * 2.41 accepts: the scheme form `zarr://https://host/a.zarr/` (also `zarr2://`, `zarr3://`) and
 * the pipeline form `https://host/a.zarr/|zarr3:` (optionally `|zarr3:sub/path`). Undefined for
 * anything that is not a zarr source over http(s). No Neuroglancer imports (unit-tested in Node).
 */
const SCHEME_FORM = /^zarr[23]?:\/\/(.+)$/;
const PIPE_ZARR = /^zarr[23]?:(.*)$/;

export function zarrStoreUrl(spec: string): string | undefined {
  const s = spec.trim();
  const m = SCHEME_FORM.exec(s);
  if (m) return httpUrl(m[1]!);
  const parts = s.split("|");
  if (parts.length < 2) return undefined;
  const last = PIPE_ZARR.exec(parts[parts.length - 1]!);
  if (!last) return undefined;
  if (parts.length !== 2) return undefined; // other kvstore adapters (zip, ocdbt, …) are not read here
  const base = httpUrl(parts[0]!);
  if (base === undefined) return undefined;
  const sub = last[1]!.replace(/^\/+/, "");
  return sub ? `${base.replace(/\/*$/, "/")}${sub}` : base;
}

function httpUrl(u: string): string | undefined {
  try {
    const url = new URL(u);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}
