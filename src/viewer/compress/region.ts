/**
 * The region a compression fits, in voxels of the chosen zarr level (z/y/x, half-open): the whole
 * volume at level 0 or a coarser OME-Zarr level, or the block the viewer currently shows around its
 * position (the cross-section's width and height, as deep as the smaller of the two), mapped
 * through the layer's source transform (diagonal or permuted transforms; others are refused).
 */
import type { UserLayer } from "neuroglancer/unstable/layer/index.js";
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import type { Box } from "../../core/background.js";

export type RegionChoice = { kind: "whole"; level: number } | { kind: "view" };

export interface ZarrLevel {
  shape: [number, number, number];
}

interface LoadedTransform {
  rank: number;
  inputSpace: { names: readonly string[]; scales: Float64Array };
  outputSpace: { names: readonly string[]; scales: Float64Array };
  transform: Float64Array;
}

/** The source's z/y/x input dimensions, by name, else the last three in order. */
function zyxDims(names: readonly string[]): [number, number, number] {
  const find = (n: string) => names.findIndex((x) => x.toLowerCase() === n);
  const z = find("z"), y = find("y"), x = find("x");
  if (z >= 0 && y >= 0 && x >= 0) return [z, y, x];
  const r = names.length;
  return [r - 3, r - 2, r - 1];
}

/** Level-0 voxel z/y/x box of the current cross-section view, clipped to `shape`, or why not. */
export function viewRegion(viewer: Viewer, layer: UserLayer, shape: [number, number, number]): Box | string {
  const loaded = layer.dataSources[0]?.loadState as { transform?: { value: LoadedTransform } } | undefined;
  const t = loaded?.transform?.value;
  if (!t) return "the layer's source has not loaded yet";
  const global = viewer.coordinateSpace.value;
  const position = viewer.position.value;
  const rank = t.rank;
  const stride = rank + 1;
  const dims = zyxDims(t.inputSpace.names);
  const panel = largestPanel();
  if (!panel) return "no cross-section panel is on screen";
  const zoom = viewer.navigationState.zoomFactor.value; // global units per screen pixel
  const half = Math.max(2, (Math.min(panel.width, panel.height) / 2) * zoom);
  const halfXY = [(panel.height / 2) * zoom, (panel.width / 2) * zoom]; // y, x
  const box: number[] = [];
  for (let a = 0; a < 3; a++) {
    const i = dims[a]!;
    let out = -1;
    for (let j = 0; j < rank; j++) {
      const m = t.transform[i * stride + j]!;
      if (m === 0) continue;
      if (out !== -1) return "the layer's source transform mixes dimensions (rotation or shear)";
      out = j;
    }
    if (out === -1) return "the layer's source transform drops a spatial dimension";
    const g = global.names.indexOf(t.outputSpace.names[out]!);
    if (g < 0) return `the viewer has no "${t.outputSpace.names[out]}" dimension`;
    const m = t.transform[i * stride + out]!, offset = t.transform[rank * stride + out]!;
    // global position (global units) → output units → source voxels
    const toOut = global.scales[g]! / t.outputSpace.scales[out]!;
    const centre = (position[g]! * toOut - offset) / m;
    const h = Math.abs(((a === 0 ? half : halfXY[a - 1]!) * toOut) / m);
    const lo = Math.max(0, Math.floor(centre - h)), hi = Math.min(shape[a]!, Math.ceil(centre + h));
    if (hi - lo < 4) return "the current view shows less than 4 voxels of the volume along some axis";
    box.push(lo, hi);
  }
  return { z0: box[0]!, z1: box[1]!, y0: box[2]!, y1: box[3]!, x0: box[4]!, x1: box[5]! };
}

function largestPanel(): { width: number; height: number } | undefined {
  let best: DOMRect | undefined;
  for (const e of document.querySelectorAll(".neuroglancer-rendered-data-panel")) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && (!best || r.width * r.height > best.width * best.height)) best = r;
  }
  return best && { width: best.width, height: best.height };
}
