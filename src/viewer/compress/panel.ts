import type { UserLayer } from "neuroglancer/unstable/layer/index.js";
import { RefCounted } from "neuroglancer/unstable/util/disposable.js";
import { el } from "../tab/dom.js";

export class CompressPanel extends RefCounted {
  readonly element = el("div", "volmicro-panel");
  constructor(readonly layer: UserLayer, readonly storeUrl: string, readonly spec: string) {
    super();
    this.element.append(el("div", "volmicro-heading", "Compress this layer"), el("div", "", storeUrl));
  }
}
