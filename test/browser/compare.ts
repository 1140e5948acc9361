/**
 * Screen ↔ voxel comparison for an "xy" cross-section at `pixelsPerVoxel` zoom centred on voxel
 * coordinates (cx, cy): each pixel centre maps to a voxel; pixels near voxel borders or outside
 * the volume are skipped. A half-pixel uncertainty about the panel's centre is absorbed by trying
 * small shifts and keeping the best.
 */
import { VmgDecoder } from "../../src/decode/decoder.js";
import { readVmg } from "../../src/format/vmg.js";
import { contrastWindow } from "../../src/viewer/shader.js";

/**
 * The navigation position (x, y, z; voxels of a layer at origin 0) that puts compareSlice's
 * (cx, cy) at the panel's centre in the plane through slice z. Voxel k's centre lies at k in a
 * `.vmg` layer as in an OME-Zarr one (both place a volume by its first voxel's centre), so voxel k
 * spans k − ½ … k + ½ and compareSlice's cx (voxel ⌊cx⌋, left edge at cx − ⌊cx⌋) is at cx − ½.
 */
export function slicePosition(cx: number, cy: number, z: number): [number, number, number] {
  return [cx - 0.5, cy - 0.5, z];
}

/** An xy view of `file` at slice z, `pixelsPerVoxel` screen pixels per voxel, centred on `centre` (x, y in compareSlice's terms; default the middle), no overlays, opaque layer. */
export function sliceView(source: string, file: Uint8Array, z: number, pixelsPerVoxel: number, centre?: [number, number]) {
  const h = readVmg(file).header;
  const [sz, sy, sx] = h.voxelSize;
  const [, ny, nx] = h.shape;
  const [cx, cy] = centre ?? [nx / 2, ny / 2];
  return {
    dimensions: { x: [sx * 1e-6, "m"], y: [sy * 1e-6, "m"], z: [sz * 1e-6, "m"] },
    position: slicePosition(cx, cy, z),
    crossSectionScale: 1 / pixelsPerVoxel,
    layout: "xy",
    showAxisLines: false,
    showScaleBar: false,
    showDefaultAnnotations: false,
    layers: [{ type: "image", name: "vmg", source, opacity: 1 }],
  };
}

/** Expected grey level of each voxel of slice z: CPU decode, then the default shader's window. */
export function cpuSlice(file: Uint8Array, z: number): { nx: number; ny: number; at: (x: number, y: number) => number } {
  const f = readVmg(file);
  const [, ny, nx] = f.header.shape;
  const values = new VmgDecoder(f).decode({ z0: z, z1: z + 1, y0: 0, y1: ny, x0: 0, x1: nx });
  const [lo, hi] = contrastWindow(f.header);
  return { nx, ny, at: (x, y) => Math.round(255 * Math.min(1, Math.max(0, (values[y * nx + x]! - lo) / (hi - lo)))) };
}

export interface SliceComparison {
  compared: number;
  /** Fraction of compared pixels within `tolerance` grey levels. */
  agree: number;
  meanAbs: number;
  shift: [number, number];
}

export function compareSlice(
  shot: { width: number; height: number; gray: Uint8Array },
  expected: (x: number, y: number) => number, nx: number, ny: number,
  cx: number, cy: number, pixelsPerVoxel: number, tolerance: number,
  /** Voxels left out of the comparison (e.g. a region known not to render). */
  skip?: (x: number, y: number) => boolean,
): SliceComparison {
  let best: SliceComparison | undefined;
  for (const sx of [-1, -0.5, 0, 0.5, 1]) for (const sy of [-1, -0.5, 0, 0.5, 1]) {
    let compared = 0, ok = 0, sum = 0;
    for (let py = 0; py < shot.height; py++) {
      const v = cy + (py + 0.5 + sy - shot.height / 2) / pixelsPerVoxel;
      const fy = v - Math.floor(v);
      if (v < 0 || v >= ny || fy < 0.15 || fy > 0.85) continue;
      for (let px = 0; px < shot.width; px++) {
        const u = cx + (px + 0.5 + sx - shot.width / 2) / pixelsPerVoxel;
        const fx = u - Math.floor(u);
        if (u < 0 || u >= nx || fx < 0.15 || fx > 0.85 || skip?.(Math.floor(u), Math.floor(v))) continue;
        const d = Math.abs(shot.gray[py * shot.width + px]! - expected(Math.floor(u), Math.floor(v)));
        compared++;
        sum += d;
        if (d <= tolerance) ok++;
      }
    }
    const c: SliceComparison = { compared, agree: compared ? ok / compared : 0, meanAbs: compared ? sum / compared : Infinity, shift: [sx, sy] };
    if (!best || c.agree > best.agree) best = c;
  }
  return best!;
}
