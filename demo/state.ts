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
 * Neuroglancer renders a volume at the finest scale whose voxels are no finer than the view's depth
 * range / this target. The 3D view's depth range is several times the volume, so with a few hundred
 * samples the multiscale .vmg layer is drawn from a 4× coarser scale while the single-scale zarr is
 * drawn at full resolution. A target this high makes both use their finest scale: a fair comparison.
 */
const DEPTH_SAMPLES = 4096;

export function demoState(d: DemoLayers): Record<string, unknown> {
  const [nz, ny, nx] = d.shape;
  const [lo, hi] = contrastWindow(d);
  const shader = `#uicontrol invlerp normalized(range=[${lo}, ${hi}])\nvoid main() {\n  emitGrayscale(normalized());\n}\n`;
  const perUnit = METRES[d.unit];
  const dim = (s: number) => (perUnit === undefined ? [s, ""] : [s * perUnit, "m"]);
  return {
    dimensions: { x: dim(d.voxelSize[2]), y: dim(d.voxelSize[1]), z: dim(d.voxelSize[0]) },
    position: [nx / 2, ny / 2, d.z + 0.5],
    crossSectionScale: Math.max(nx / 450, ny / 250),
    projectionScale: 1.3 * Math.max(nx, ny, nz),
    layers: [
      { type: "image", name: "original (zarr)", source: `zarr://${d.zarrUrl}`, shader, opacity: 1, volumeRendering: "max", volumeRenderingDepthSamples: DEPTH_SAMPLES },
      { type: "image", name: "vmg", source: `vmg://${d.vmgUrl}`, shader, opacity: 1, volumeRendering: "max", volumeRenderingDepthSamples: DEPTH_SAMPLES },
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
