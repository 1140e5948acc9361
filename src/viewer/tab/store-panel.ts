/**
 * The VolMicro tab of a zarr layer: for a Gaussian store (its arrays coded by
 * `volmicro.gaussians`), the store's facts (store-facts.ts), how its chunks are being decoded
 * (WebGPU and the adapter, or the CPU and why) and its failed chunks ("k chunks failed: <first
 * error>", which Neuroglancer itself only logs); for any other zarr image, "Compress this layer".
 */
import type { UserLayer } from "neuroglancer/unstable/layer/index.js";
import { RefCounted } from "neuroglancer/unstable/util/disposable.js";
import { isVmgError } from "../../core/errors.js";
import { HttpStore } from "../../io/http-store.js";
import { CompressPanel } from "../compress/panel.js";
import { decodeStatsChanged, decodeStatsUnder } from "../stats.js";
import { failuresUnder, storeChunkFailuresChanged } from "../store-failures.js";
import { el, FactTable, messagePanel } from "./dom.js";
import { readStoreFacts, storeFactRows, type StoreFacts } from "./store-facts.js";
import { decodePathText } from "./vmg-panel.js";

export class StorePanel extends RefCounted {
  readonly element = el("div", "volmicro-panel volmicro-store");
  private readonly facts = new FactTable();
  private readonly decode = new FactTable();
  private readonly failures = el("div", "volmicro-error volmicro-chunk-failures");
  private readonly prefix: string;
  private frame = 0;

  constructor(facts: StoreFacts) {
    super();
    this.prefix = facts.url.replace(/\/*$/, "/");
    this.element.append(
      el("div", "volmicro-heading", "VolMicro Gaussian store"),
      this.facts.element,
      el("div", "volmicro-subheading", "Decoding"),
      this.decode.element,
      this.failures,
    );
    this.facts.set(storeFactRows(facts));
    this.update();
    const later = () => {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => { this.frame = 0; this.update(); });
    };
    this.registerDisposer(decodeStatsChanged.add(later));
    this.registerDisposer(storeChunkFailuresChanged.add(later));
    this.registerDisposer(() => cancelAnimationFrame(this.frame));
  }

  private update(): void {
    const [text, title] = decodePathText(decodeStatsUnder(this.prefix));
    this.decode.set([["Decode path", text, title]]);
    const f = failuresUnder(this.prefix);
    this.failures.textContent = f ? `${f.count} chunk${f.count > 1 ? "s" : ""} failed: ${f.first.message} (${f.first.tag}; first in ${f.first.url})` : "";
  }
}

/** A zarr layer's tab content: the store's facts once its metadata shows the Gaussian codec, else Compress this layer. */
export class ZarrPanel extends RefCounted {
  readonly element = el("div", "volmicro-zarr");

  constructor(layer: UserLayer, storeUrl: string, spec: string) {
    super();
    this.element.append(el("div", "volmicro-panel volmicro-message volmicro-loading", "Reading the store's metadata…"));
    const show = (content: RefCounted & { element: HTMLElement }) => {
      if (this.wasDisposed) { content.dispose(); return; }
      this.registerDisposer(content);
      this.element.replaceChildren(content.element);
    };
    // A Gaussian store the codec refuses says why; any other unreadable store is left to Compress this layer, which words its error.
    readStoreFacts(new HttpStore(storeUrl), storeUrl).then(
      (facts) => show(facts ? new StorePanel(facts) : new CompressPanel(layer, storeUrl, spec)),
      (e: unknown) => show(isVmgError(e) ? messagePanel(`This Gaussian store cannot be shown: ${e.message}`, "volmicro-error") : new CompressPanel(layer, storeUrl, spec)),
    );
  }
}
