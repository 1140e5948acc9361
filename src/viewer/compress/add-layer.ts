/**
 * "Add as layer": a new image layer whose source is the fitted file in memory (`vmg://blob:…`),
 * looking like the original (its shader and rendering options, copied), placed right above it in
 * the layer list and in every layer group that shows it, offset to the fitted region.
 */
import type { ManagedUserLayer, UserLayer } from "neuroglancer/unstable/layer/index.js";
import { makeLayer } from "neuroglancer/unstable/layer/index.js";
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import { vmgLayerSpec, type AddedLayerSpec } from "./layer-spec.js";

export function addVmgLayer(viewer: Viewer, original: UserLayer, name: string, a: AddedLayerSpec): ManagedUserLayer {
  const manager = viewer.layerManager;
  const originalManaged = original.managedLayer;
  const unique = manager.getUniqueLayerName(name);
  const json = original.toJSON() as Record<string, unknown>;
  const managed = makeLayer(viewer.layerSpecification, unique, vmgLayerSpec(json, a));
  const index = manager.managedLayers.indexOf(originalManaged);
  const groups = [...viewer.layerSpecification.subsets].filter((g) => g.layerManager.managedLayers.includes(originalManaged));
  manager.addManagedLayer(managed, index >= 0 ? index + 1 : undefined);
  for (const g of groups) g.layerManager.addManagedLayer(managed.addRef(), g.layerManager.managedLayers.indexOf(originalManaged) + 1);
  viewer.selectedLayer.layer = managed;
  return managed;
}
