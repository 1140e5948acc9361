/**
 * Share links: the viewer's state as a page URL (`#!` + JSON, encoded as Neuroglancer encodes its
 * own URL hash). For a `.vmg` layer whose file is small enough, the layer's source is replaced by
 * the file itself as a `data:` URL, so the link carries the data and opens anywhere the viewer
 * runs; a `blob:` source (an in-memory fit) only survives in a link that way. The pure parts have
 * no DOM or Neuroglancer imports (unit-tested in Node).
 */

/** Largest file inlined into a link: its base64 form stays under about 1 MB of URL. */
export const INLINE_MAX_BYTES = 700 * 1024;

/** Neuroglancer's own fragment encoding: encodeURI plus the characters it also escapes. */
export function encodeStateFragment(json: string): string {
  return encodeURI(json).replace(/[!'()*;,]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function stateUrl(pageUrl: string, state: unknown): string {
  return `${pageUrl.replace(/#.*$/, "")}#!${encodeStateFragment(JSON.stringify(state))}`;
}

export function base64(bytes: Uint8Array): string {
  let s = "";
  const STEP = 0x8000;
  for (let i = 0; i < bytes.length; i += STEP) s += String.fromCharCode(...bytes.subarray(i, i + STEP));
  return btoa(s);
}

export function inlineVmgSource(bytes: Uint8Array, option = ""): string {
  return `vmg://data:application/octet-stream;base64,${base64(bytes)}${option}`;
}

/** The `#decode=…` layer option at the end of a vmg:// source, if any. */
export function sourceOption(spec: string): string {
  return /#decode=[a-z]*$/.exec(spec)?.[0] ?? "";
}

/**
 * Copy of a state's JSON in which every source URL equal to `from` (as a string, an object's
 * `url`, or inside an array of sources) of the layer named `layer` becomes `to`.
 */
export function replaceLayerSource(state: unknown, layer: string, from: string, to: string): unknown {
  const copy = structuredClone(state) as { layers?: unknown };
  const layers = copy.layers;
  const swap = (src: unknown): unknown => {
    if (typeof src === "string") return src === from ? to : src;
    if (Array.isArray(src)) return src.map(swap);
    if (src && typeof src === "object" && (src as { url?: unknown }).url === from) return { ...src, url: to };
    return src;
  };
  const visit = (l: unknown, name: string | undefined) => {
    const o = l as { name?: string; source?: unknown };
    if ((o.name ?? name) === layer && "source" in o) o.source = swap(o.source);
  };
  if (Array.isArray(layers)) for (const l of layers) visit(l, undefined);
  else if (layers && typeof layers === "object") for (const [name, l] of Object.entries(layers)) visit(l, name);
  return copy;
}

export interface ShareLink {
  url: string;
  /** True when the layer's file travels inside the link. */
  inline: boolean;
  /** Plain words about the link (shown beside the button). */
  note: string;
}

/**
 * The share link for a page showing `state`, with the `.vmg` layer `layer` (source `spec`, file
 * `bytes`) inlined when small enough.
 */
export function makeShareLink(pageUrl: string, state: unknown, layer: string, spec: string, bytes: Uint8Array | undefined): ShareLink {
  const inner = spec.replace(/^vmg:\/\//, "").replace(/#decode=[a-z]*$/, "");
  const isLocal = inner.startsWith("blob:");
  if (inner.startsWith("data:")) {
    return { url: stateUrl(pageUrl, state), inline: true, note: "The file already travels inside the link." };
  }
  if (bytes && bytes.length <= INLINE_MAX_BYTES) {
    const url = stateUrl(pageUrl, replaceLayerSource(state, layer, spec, inlineVmgSource(bytes, sourceOption(spec))));
    return { url, inline: true, note: `The ${bytes.length.toLocaleString("en")}-byte file travels inside the link (${url.length.toLocaleString("en")} characters).` };
  }
  const size = bytes ? `${(bytes.length / 1024).toFixed(0)} KiB` : "unknown size";
  return {
    url: stateUrl(pageUrl, state), inline: false,
    note: isLocal
      ? `The file (${size}) is too large to travel inside a link and lives only in this page: download it and host it (https, CORS open to the viewer) for others to see this layer.`
      : `The file (${size}) is too large to inline; the link refers to its URL, which others must be able to reach.`,
  };
}
