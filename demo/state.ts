/**
 * The demo's Neuroglancer state: the original volume (zarr, Neuroglancer's own datasource) and its
 * `.vmg` side by side in two linked xy panels, both with the same contrast window.
 */
import { contrastWindow } from "../src/viewer/shader.js";
import type { DType } from "../src/core/dtype.js";

export interface DemoLayers {
  /** URL of the OME-Zarr group (absolute: Neuroglancer's zarr datasource needs one). */
  zarrUrl: string;
  /** Source after `vmg://` (relative to the page is fine). */
  vmgUrl: string;
  shape: [number, number, number];
  voxelSize: [number, number, number];
  unit: string;
  dtype: DType;
  valueOffset: number;
  valueScale: number;
  /** Plane the cross-sections show first. */
  z: number;
}

const METRES: Record<string, number> = { m: 1, mm: 1e-3, um: 1e-6, "µm": 1e-6, micron: 1e-6, nm: 1e-9 };

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
  const perUnit = METRES[d.unit];
  const dim = (s: number) => (perUnit === undefined ? [s, ""] : [s * perUnit, "m"]);
  return {
    dimensions: { x: dim(d.voxelSize[2]), y: dim(d.voxelSize[1]), z: dim(d.voxelSize[0]) },
    position: [nx / 2, ny / 2, d.z + 0.5],
    crossSectionScale: Math.max(nx / 450, ny / 250),
    projectionScale: 1.3 * Math.max(...canonicalExtents(d.shape, d.voxelSize)),
    projectionDepth: depth,
    layers: [
      { type: "image", name: "original (zarr)", source: `zarr://${d.zarrUrl}`, shader, opacity: 1, volumeRendering: "max", volumeRenderingDepthSamples: samples },
      { type: "image", name: "vmg", source: `vmg://${d.vmgUrl}`, shader, opacity: 1, volumeRendering: "max", volumeRenderingDepthSamples: samples },
    ],
    // Top: the same cross-section of both; bottom: maximum-intensity projections.
    layout: {
      type: "column",
      children: ["xy", "3d"].map((panel) => ({
        type: "row",
        children: [
          { type: "viewer", layers: ["original (zarr)"], layout: panel },
          { type: "viewer", layers: ["vmg"], layout: panel },
        ],
      })),
    },
    showDefaultAnnotations: false,
  };
}

/** Page URL (with `#!state`) for a server root. */
export function demoUrl(serverUrl: string, state: unknown, query = ""): string {
  return `${serverUrl}${query}#!${encodeURIComponent(JSON.stringify(state))}`;
}
