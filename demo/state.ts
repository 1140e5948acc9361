/**
 * The demo's Neuroglancer state: the original volume (zarr, Neuroglancer's own datasource), its
 * `.vmg` and, when given, its chunked Gaussian store (`zarr://`, decoded by the plugin's codec)
 * side by side in linked panels, all with the same contrast window. The original is OME-Zarr:
 * an OME-Zarr layer and a `.vmg` layer both put voxel k's centre at origin + voxel size · k, so
 * the three line up voxel for voxel without a transform (a plain zarr array, which Neuroglancer
 * puts at k … k + 1, would lie half a voxel off).
 */
import { metresPerUnit } from "../src/io/units.js";
import { contrastWindow } from "../src/viewer/shader.js";
import type { DType } from "../src/core/dtype.js";

export interface DemoLayers {
  /** URL of the OME-Zarr group (absolute: Neuroglancer's zarr datasource needs one). */
  zarrUrl: string;
  /** Source after `vmg://` (relative to the page is fine). */
  vmgUrl: string;
  /** URL of the Gaussian store (`vmg compress … -o *.ome.zarr`, absolute), shown as a third column. */
  storeUrl?: string;
  shape: [number, number, number];
  voxelSize: [number, number, number];
  unit: string;
  dtype: DType;
  valueOffset: number;
  valueScale: number;
  /** Plane the cross-sections show first. */
  z: number;
}

export const ORIGINAL_LAYER = "original (zarr)";
export const VMG_LAYER = "vmg";
export const STORE_LAYER = "store (Gaussian chunks)";


/**
 * Depth of the 3D views and their volume-rendering sample count. Neuroglancer picks a volume's
 * rendering scale as the finest one whose voxels are at least (depth of the whole view frustum) /
 * (depth samples) (volume_rendering/base.ts), but then spreads those samples over the volume's own
 * depth only. By default the frustum is 50 view heights deep (`projectionDepth` -50): about 6,500
 * voxels for the demo's 192-voxel block, so even 4,096 samples meant 1.6-voxel spacing and the
 * multiscale `.vmg` was drawn from its 2× coarser scale, while the single-scale zarr (nothing
 * coarser to pick) stayed sharp. A frustum just deep enough for the volume from any position
 * inside it (twice its diagonal, fixed in voxels so zooming keeps it) and one sample per finest
 * voxel of that depth make both layers use full resolution, with about two samples per voxel
 * along each ray through the volume and 7× fewer than 4,096.
 */
export function projectionDepthAndSamples(shape: [number, number, number], voxelSize: [number, number, number]): { depth: number; samples: number } {
  const extents = canonicalExtents(shape, voxelSize);
  const depth = Math.ceil(2 * Math.hypot(...extents));
  // the finest scale's voxels are at least one canonical voxel: depth / samples < 1 selects it
  return { depth, samples: depth + 1 };
}

/** Extent [z, y, x] of the volume in Neuroglancer's canonical voxels (the finest voxel edge). */
function canonicalExtents(shape: [number, number, number], voxelSize: [number, number, number]): [number, number, number] {
  const finest = Math.min(...voxelSize);
  return [0, 1, 2].map((i) => (shape[i]! * voxelSize[i]!) / finest) as [number, number, number];
}

export function demoState(d: DemoLayers): Record<string, unknown> {
  const [, ny, nx] = d.shape;
  const [lo, hi] = contrastWindow(d);
  const { depth, samples } = projectionDepthAndSamples(d.shape, d.voxelSize);
  const shader = `#uicontrol invlerp normalized(range=[${lo}, ${hi}])\nvoid main() {\n  emitGrayscale(normalized());\n}\n`;
  const perUnit = metresPerUnit(d.unit);
  const dim = (s: number) => (perUnit === undefined ? [s, ""] : [s * perUnit, "m"]);
  const layer = (name: string, source: string) => ({
    type: "image", name, source, shader, opacity: 1, volumeRendering: "max", volumeRenderingDepthSamples: samples,
  });
  const layers = [
    layer(ORIGINAL_LAYER, `zarr://${d.zarrUrl}`),
    layer(VMG_LAYER, `vmg://${d.vmgUrl}`),
    ...(d.storeUrl ? [layer(STORE_LAYER, `zarr://${d.storeUrl}`)] : []),
  ];
  return {
    dimensions: { x: dim(d.voxelSize[2]), y: dim(d.voxelSize[1]), z: dim(d.voxelSize[0]) },
    position: [nx / 2, ny / 2, d.z],
    crossSectionScale: Math.max(nx / 450, ny / 250),
    projectionScale: 1.3 * Math.max(...canonicalExtents(d.shape, d.voxelSize)),
    projectionDepth: depth,
    layers,
    // Top: the same cross-section of each; bottom: maximum-intensity projections.
    layout: {
      type: "column",
      children: ["xy", "3d"].map((panel) => ({
        type: "row",
        children: layers.map((l) => ({ type: "viewer", layers: [l.name], layout: panel })),
      })),
    },
    showDefaultAnnotations: false,
  };
}

/** Page URL (with `#!state`) for a server root. */
export function demoUrl(serverUrl: string, state: unknown, query = ""): string {
  return `${serverUrl}${query}#!${encodeURIComponent(JSON.stringify(state))}`;
}
