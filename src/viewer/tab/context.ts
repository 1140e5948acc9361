/**
 * The viewer the VolMicro layer tab works in. Layer tabs are built by Neuroglancer from the layer
 * alone; what they need of the page (its state for share links, the layer list to add a layer
 * to, the current view) comes from here. `main.ts` sets it once the viewer exists.
 */
import type { Viewer } from "neuroglancer/unstable/viewer.js";

let current: Viewer | undefined;

export function setTabViewer(viewer: Viewer): void {
  current = viewer;
}

export function tabViewer(): Viewer {
  if (!current) throw new Error("volmicro: the layer tab was used before setTabViewer(viewer)");
  return current;
}
