/**
 * Screen ↔ voxel comparison for an "xy" cross-section at `pixelsPerVoxel` zoom centred on voxel
 * coordinates (cx, cy): each pixel centre maps to a voxel; pixels near voxel borders or outside
 * the volume are skipped. A half-pixel uncertainty about the panel's centre is absorbed by trying
 * small shifts and keeping the best.
 */
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
        if (u < 0 || u >= nx || fx < 0.15 || fx > 0.85) continue;
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
