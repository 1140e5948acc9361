/**
 * The "VolMicro" layer side-panel tab (Neuroglancer's USER_LAYER_TABS: every layer gets it, so it
 * is registered at import, before the viewer exists). Its content follows the layer's sources:
 * facts and a share link for a `.vmg` layer, a Gaussian store's facts or the "Compress this
 * layer" form for a zarr image layer, a plain message for anything else. The content is rebuilt only when that kind changes,
 * so a running compression keeps its panel while sources reload.
 */
import { USER_LAYER_TABS, type UserLayer } from "neuroglancer/unstable/layer/index.js";
import { RefCounted } from "neuroglancer/unstable/util/disposable.js";
import { Tab } from "neuroglancer/unstable/widget/tab_view.js";
import { messagePanel as message } from "./dom.js";
import { VOLMICRO_TAB_ID } from "./tab-id.js";
import { layerKind, type LayerKind } from "./layer-kind.js";
import { ZarrPanel } from "./store-panel.js";
import { VmgPanel } from "./vmg-panel.js";
import "./volmicro-tab.css";

export { VOLMICRO_TAB_ID };

class VolMicroTab extends Tab {
  private panel: { kind: LayerKind["kind"]; key: string; content: RefCounted & { element: HTMLElement } } | undefined;

  constructor(private readonly layer: UserLayer) {
    super();
    this.element.classList.add("volmicro-tab");
    const refresh = () => this.refresh();
    const hooked = new WeakSet<object>();
    const hookSources = () => {
      for (const ds of layer.dataSources) {
        if (hooked.has(ds)) continue;
        hooked.add(ds);
        this.registerDisposer(ds.changed.add(refresh));
      }
    };
    hookSources();
    this.registerDisposer(layer.dataSourcesChanged.add(() => { hookSources(); refresh(); }));
    this.registerDisposer(layer.layersChanged.add(refresh));
    this.registerDisposer(() => this.panel?.content.dispose());
    this.refresh();
  }

  private refresh(): void {
    const k = layerKind(this.layer);
    const key = k.kind === "vmg" || k.kind === "zarr" || k.kind === "loading" ? k.spec : k.message;
    if (this.panel && this.panel.kind === k.kind && this.panel.key === key) {
      if (k.kind === "vmg") (this.panel.content as VmgPanel).update(k.info);
      return;
    }
    this.panel?.content.dispose();
    this.panel = { kind: k.kind, key, content: this.make(k) };
    this.element.replaceChildren(this.panel.content.element);
  }

  private make(k: LayerKind): RefCounted & { element: HTMLElement } {
    switch (k.kind) {
      case "vmg": return new VmgPanel(this.layer, k.info, k.spec);
      case "zarr": return new ZarrPanel(this.layer, k.storeUrl, k.spec);
      case "loading": return message("Loading the layer's source…", "volmicro-loading");
      case "other": return message(k.message, "volmicro-unsupported");
    }
  }
}


USER_LAYER_TABS.push({ id: VOLMICRO_TAB_ID, label: "VolMicro", order: 50, getter: (layer: UserLayer) => new VolMicroTab(layer) });
