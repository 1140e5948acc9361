/**
 * The JSON of the layer "Add as layer" creates: the original's look (shader, rendering options)
 * without its identity (name, source, tab, tools), the in-memory `.vmg` as source. No transform:
 * the file's origin (the source's origin plus the fitted box's corner) places it where the region
 * was. No Neuroglancer imports (unit-tested in Node).
 */

/** Layer-state keys that belong to the original alone. */
const NOT_COPIED = new Set(["name", "source", "tab", "panels", "tool", "toolBindings", "archived", "visible", "layerDimensions", "localDimensions", "localPosition"]);

export interface AddedLayerSpec {
  sourceUrl: string;
}

/** The layer JSON of the new layer (exported for tests). */
export function vmgLayerSpec(original: Record<string, unknown>, a: AddedLayerSpec): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(original)) if (!NOT_COPIED.has(k)) spec[k] = v;
  spec["type"] = "image";
  spec["tab"] = "volmicro";
  spec["source"] = a.sourceUrl;
  return spec;
}
