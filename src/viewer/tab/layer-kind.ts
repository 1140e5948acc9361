/**
 * What the VolMicro tab can do with a layer: describe it (a `vmg://` source), compress it (an
 * image layer with a zarr v2/v3 or OME-Zarr source), wait (still loading), or neither (why).
 */
import { ImageUserLayer } from "neuroglancer/unstable/layer/image/index.js";
import type { UserLayer } from "neuroglancer/unstable/layer/index.js";
import type { VmgInfo } from "../base.js";
import { layerVmgInfo } from "../layer-defaults.js";
import { VMG_SCHEME } from "../url.js";
import { zarrStoreUrl } from "./zarr-url.js";

export type LayerKind =
  | { kind: "vmg"; info: VmgInfo; spec: string }
  | { kind: "zarr"; storeUrl: string; spec: string }
  | { kind: "loading"; spec: string }
  | { kind: "other"; message: string };

export const SUPPORTED_MESSAGE =
  "VolMicro compresses image layers whose source is a zarr v2/v3 array or an OME-Zarr image " +
  "(zarr://, zarr2://, zarr3:// or a URL ending in |zarr:, |zarr2:, |zarr3:) and describes .vmg " +
  "layers (vmg://).";

export function layerKind(layer: UserLayer): LayerKind {
  const specs = layer.dataSources.map((ds) => ds.spec.url).filter((u) => u !== "");
  if (specs.length === 0) return { kind: "other", message: `This layer has no data source. ${SUPPORTED_MESSAGE}` };
  const vmgSpec = specs.find((u) => u.startsWith(`${VMG_SCHEME}://`));
  if (vmgSpec !== undefined) {
    const info = layerVmgInfo(layer);
    return info ? { kind: "vmg", info, spec: vmgSpec } : { kind: "loading", spec: vmgSpec };
  }
  for (const spec of specs) {
    const storeUrl = zarrStoreUrl(spec);
    if (storeUrl === undefined) continue;
    if (layer instanceof ImageUserLayer) return { kind: "zarr", storeUrl, spec };
    return { kind: "other", message: `This is a ${layer.type || "new"} layer; only image layers can be compressed. ${SUPPORTED_MESSAGE}` };
  }
  return { kind: "other", message: `The source ${shorten(specs[0]!)} is not supported. ${SUPPORTED_MESSAGE}` };
}

function shorten(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}
