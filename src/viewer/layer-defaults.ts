/**
 * Gives image layers showing a `vmg://` source the plugin's default shader (contrast window from
 * the header, see shader.ts) once the source has loaded, unless the layer's state already names a
 * shader or shader controls. The shader then lives in the layer state, so share links carry it.
 */
import { ImageUserLayer } from "neuroglancer/unstable/layer/image/index.js";
import type { UserLayer } from "neuroglancer/unstable/layer/index.js";
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import { VmgMultiscaleVolumeChunkSource } from "./frontend.js";
import { defaultShader } from "./shader.js";
import type { VmgInfo } from "./base.js";

/** The `.vmg` header of the first loaded vmg:// source of a layer, if any. */
export function layerVmgInfo(layer: UserLayer): VmgInfo | undefined {
  for (const ds of layer.dataSources) {
    const state = ds.loadState;
    if (state === undefined || "error" in state && state.error !== undefined) continue;
    for (const sub of (state as { subsources?: Array<{ subsourceEntry: { subsource: { volume?: unknown } } }> }).subsources ?? []) {
      const volume = sub.subsourceEntry.subsource.volume;
      if (volume instanceof VmgMultiscaleVolumeChunkSource) return volume.info;
    }
  }
  return undefined;
}

export function installVmgLayerDefaults(viewer: Viewer): void {
  const watched = new WeakSet<UserLayer>();
  const done = new WeakSet<UserLayer>();
  const apply = (layer: UserLayer) => {
    if (done.has(layer) || !(layer instanceof ImageUserLayer)) return;
    const info = layerVmgInfo(layer);
    if (!info) return;
    done.add(layer);
    const shader = layer.fragmentMain as unknown as { toJSON(): unknown; value: string };
    if (shader.toJSON() !== undefined || layer.shaderControlState.toJSON() !== undefined) return;
    shader.value = defaultShader(info);
  };
  const scan = () => {
    for (const managed of viewer.layerManager.managedLayers) {
      const layer = managed.layer;
      if (!layer) continue;
      if (!watched.has(layer)) {
        watched.add(layer);
        layer.registerDisposer(layer.dataSourcesChanged.add(() => apply(layer)));
        for (const ds of layer.dataSources) layer.registerDisposer(ds.changed.add(() => apply(layer)));
      }
      apply(layer);
    }
  };
  viewer.registerDisposer(viewer.layerManager.layersChanged.add(scan));
  scan();
}
