/**
 * The view bench:store's streaming figures (and bench:store-profile's timeline) measure: an xy
 * plane of the trailmap store, 200×150 voxels at 4 screen pixels per voxel, its contrast the
 * store's, and the network emulation of the 25 Mbit/s comparison.
 */
import type { Shape3 } from "../src/core/gaussian.js";
import { unitFactor } from "../src/io/units.js";
import type { GaussianStoreInfo } from "../src/node/store-reader.js";
import { chunkDType } from "../src/store/codec/config.js";
import { contrastWindow } from "../src/viewer/shader.js";
import type { Throttle, View } from "./store-browser.js";

/** The view: an xy plane through these tile-local voxels, 4 screen pixels per voxel (200×150 voxels in 800×600). */
export const VIEW_CENTRE: Shape3 = [150, 128, 128];
export const ZOOM = 4;
export const THROTTLE: Throttle = { downloadMbit: 25, latencyMs: 20 };

/** The view of the store `info` describes (or a copy of its data, as the gzip baseline) served at `url`, centred on `centre`. */
export function storeView(info: GaussianStoreInfo, url: string, centre: Shape3): View {
  const metres = info.unit === undefined ? undefined : unitFactor(info.unit, "meter");
  const voxelSize = (info.levels[0]!.voxelSize ?? [1, 1, 1]).map((v) => v * (metres ?? 1)) as unknown as Shape3;
  const unit = metres === undefined ? "" as const : "m" as const;
  const [lo, hi] = contrastWindow({ dtype: chunkDType(info.dtype), valueOffset: info.config.valueOffset, valueScale: info.config.valueScale });
  const shader = `#uicontrol invlerp normalized(range=[${lo}, ${hi}])\nvoid main() {\n  emitGrayscale(normalized());\n}\n`;
  return { url, centre, voxelSize, unit, zoom: ZOOM, shader };
}
