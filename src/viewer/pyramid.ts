/** The scales a `.vmg` volume is offered at: power-of-two levels until one chunk covers the volume. */
import { levelFactors, scaledShape } from "../decode/decoder.js";
import type { Shape3 } from "../core/gaussian.js";

/** Edge of the cubic chunks the worker decodes (voxels of the chunk's own scale). */
export const CHUNK_EDGE = 64;

export interface PyramidLevel {
  level: number;
  /** [z, y, x] grid of the scale. */
  shape: Shape3;
}

export function pyramidLevels(shape: Shape3, chunk = CHUNK_EDGE): PyramidLevel[] {
  const levels: PyramidLevel[] = [];
  for (let level = 0; ; level++) {
    const s = scaledShape(shape, levelFactors(level));
    levels.push({ level, shape: s });
    if (s.every((n) => n <= chunk)) return levels;
  }
}
