/**
 * The JSON of the layer "Add as layer" creates: the original's look (shader, rendering options)
 * without its identity (name, source, tab, tools), the in-memory `.vmg` as source, offset to the
 * fitted region and placed by voxel centre as its whole-volume layer would be (voxel-placement.ts).
 * No Neuroglancer imports (unit-tested in Node).
 */
import type { Box } from "../../core/background.js";
import { metresPerUnit } from "../../io/units.js";
import { voxelCentreTranslation } from "../voxel-placement.js";

/** Layer-state keys that belong to the original alone. */
const NOT_COPIED = new Set(["name", "source", "tab", "panels", "tool", "toolBindings", "archived", "visible", "layerDimensions", "localDimensions", "localPosition"]);


export interface AddedLayerSpec {
  sourceUrl: string;
  /** Region of the fitted level, z/y/x voxels. */
  box: Box;
  voxelSize?: [number, number, number];
  unit?: string;
  /** The fitted level's origin (z, y, x, in the unit; the centre of its voxel 0), not the box's. */
  origin?: [number, number, number];
}

/** The layer JSON of the new layer (exported for tests). */
export function vmgLayerSpec(original: Record<string, unknown>, a: AddedLayerSpec): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(original)) if (!NOT_COPIED.has(k)) spec[k] = v;
  spec["type"] = "image";
  spec["tab"] = "volmicro";
  const { box } = a;
  if (box.x0 === 0 && box.y0 === 0 && box.z0 === 0) {
    spec["source"] = a.sourceUrl;
    return spec;
  }
  // the vmg:// source names its dimensions x, y, z with the header's voxel size (metres when the unit is known);
  // an explicit matrix replaces the file's model transform, so it carries the voxel-centre placement too
  const size = a.voxelSize ?? [1, 1, 1], [sz, sy, sx] = size;
  const [tx, ty, tz] = voxelCentreTranslation(a.origin ?? [0, 0, 0], size, [box.z0, box.y0, box.x0]);
  const perUnit = a.unit !== undefined ? metresPerUnit(a.unit) : undefined;
  const dim = (s: number) => (perUnit === undefined ? [s, ""] : [s * perUnit, "m"]);
  spec["source"] = {
    url: a.sourceUrl,
    transform: {
      outputDimensions: { x: dim(sx), y: dim(sy), z: dim(sz) },
      matrix: [[1, 0, 0, tx], [0, 1, 0, ty], [0, 0, 1, tz]],
    },
  };
  return spec;
}
