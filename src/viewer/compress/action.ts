/**
 * Keyboard action: Alt+V opens the selected layer's VolMicro tab (the "Compress this layer" form
 * for a zarr image layer, the file's facts for a `.vmg` layer, a message otherwise).
 */
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import { VOLMICRO_TAB_ID } from "../tab/tab-id.js";

export const VOLMICRO_ACTION = "volmicro-open-tab";
export const VOLMICRO_KEY = "alt+keyv";

export function installVolMicroAction(viewer: Viewer): void {
  viewer.bindAction(VOLMICRO_ACTION, () => {
    const managed = viewer.selectedLayer.layer ?? viewer.layerManager.managedLayers[0];
    const layer = managed?.layer;
    if (!managed || !layer) return;
    // the selected tab lives in the layer's first side-panel state (saved as the layer's "tab")
    const panel = layer.panels.panels.find((p) => p.tabs.includes(VOLMICRO_TAB_ID)) ?? layer.panels.panels[0];
    if (panel) panel.selectedTab.value = VOLMICRO_TAB_ID;
    viewer.selectedLayer.layer = managed;
    viewer.selectedLayer.visible = true;
  });
  viewer.inputEventBindings.global.set(VOLMICRO_KEY, VOLMICRO_ACTION);
}
