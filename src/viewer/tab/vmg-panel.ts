/**
 * The VolMicro tab of a `.vmg` layer: what the file is (URL, grid, voxel size, type, Gaussians,
 * size, bits per voxel, compression ratio, encoding), how its chunks are being decoded (WebGPU
 * and the adapter, or the CPU and why), and a "Copy share link" button.
 */
import type { UserLayer } from "neuroglancer/unstable/layer/index.js";
import { RefCounted } from "neuroglancer/unstable/util/disposable.js";
import { DTYPES } from "../../core/dtype.js";
import type { VmgInfo } from "../base.js";
import { displayName } from "../loader.js";
import { decodeStats, decodeStatsChanged, type FileDecodeStats } from "../stats.js";
import { tabViewer } from "./context.js";
import { button, copyText, el, FactTable, formatBytes } from "./dom.js";
import { makeShareLink, type ShareLink } from "./share-link.js";

export function vmgFacts(info: VmgInfo): Array<[string, string] | [string, string, string]> {
  const [nz, ny, nx] = info.shape;
  const voxels = nx * ny * nz;
  const [sz, sy, sx] = info.voxelSize;
  const raw = voxels * DTYPES[info.dtype].bytes;
  return [
    ["File", displayName(info.url), info.url.startsWith("data:") ? "inline data: URL" : info.url],
    ["Shape", `${nx} × ${ny} × ${nz} voxels (x × y × z)`],
    ["Voxel size", `${fmt(sx)} × ${fmt(sy)} × ${fmt(sz)} ${info.unit || "(no unit)"}`],
    ["Origin", `${fmt(info.origin[2])}, ${fmt(info.origin[1])}, ${fmt(info.origin[0])} ${info.unit || "(no unit)"} (x, y, z)`, "position of voxel (0, 0, 0)'s centre; the layer is placed there"],
    ["Data type", info.dtype],
    ["Gaussians", info.count.toLocaleString("en")],
    ["Size", `${formatBytes(info.bytes)} (${info.bytes.toLocaleString("en")} bytes)`],
    ["Bits per voxel", (info.bytes * 8 / voxels).toPrecision(3)],
    ["Ratio", `${(raw / info.bytes).toFixed(1)}× smaller than the raw ${formatBytes(raw)}`],
    ["Encoding", info.encoding],
  ];
}

/** "WebGPU: <adapter>" / "CPU: <why>" with chunk counts and median latency, from the worker's reports. */
export function decodePathText(s: FileDecodeStats | undefined): [string, string] {
  if (!s) return ["not decoded yet", "no chunk has been decoded so far"];
  const path = s.lastPath === "webgpu" ? "WebGPU" : "CPU";
  const why = s.lastReason.replace(/^(auto|cpu|webgpu): /, "");
  const mode = /^(auto|cpu|webgpu)/.exec(s.lastReason)?.[1] ?? "";
  const text = s.lastPath === "webgpu" ? `WebGPU (${why})` : `CPU (${s.lastReason === "cpu requested" ? "CPU requested" : why})`;
  const ms = [...s.ms[s.lastPath]].sort((a, b) => a - b);
  const median = ms.length ? ms[Math.floor(ms.length / 2)]! : NaN;
  return [text, `${path} path, mode ${mode || "cpu"}; ${s.chunks.cpu} CPU and ${s.chunks.webgpu} WebGPU chunks so far, median ${median.toFixed(1)} ms per chunk`];
}

export class VmgPanel extends RefCounted {
  readonly element = el("div", "volmicro-panel");
  private readonly facts = new FactTable();
  private readonly decode = new FactTable();
  private readonly note = el("div", "volmicro-note");
  private readonly linkBox = el("input", "volmicro-link");
  private info: VmgInfo;
  private frame = 0;

  constructor(private readonly layer: UserLayer, info: VmgInfo, private readonly spec: string) {
    super();
    this.info = info;
    this.linkBox.readOnly = true;
    this.linkBox.hidden = true;
    const copy = button("Copy share link", () => void this.copyLink());
    copy.classList.add("volmicro-copy-link");
    this.element.append(
      el("div", "volmicro-heading", "VolMicro .vmg layer"),
      this.facts.element,
      el("div", "volmicro-subheading", "Decoding"),
      this.decode.element,
      el("div", "volmicro-actions", copy),
      this.note,
      this.linkBox,
    );
    this.facts.set(vmgFacts(info));
    this.updateDecode();
    this.registerDisposer(decodeStatsChanged.add(() => {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => { this.frame = 0; this.updateDecode(); });
    }));
    this.registerDisposer(() => cancelAnimationFrame(this.frame));
  }

  update(info: VmgInfo): void {
    if (info === this.info) return;
    this.info = info;
    this.facts.set(vmgFacts(info));
    this.updateDecode();
  }

  private updateDecode(): void {
    const [text, title] = decodePathText(decodeStats.get(this.info.url));
    this.decode.set([["Decode path", text, title]]);
  }

  /** Build the link (fetching the file again on this thread, from the browser cache when it can), then copy it. */
  async copyLink(): Promise<ShareLink> {
    const viewer = tabViewer();
    let bytes: Uint8Array | undefined;
    try {
      const res = await fetch(this.info.url);
      if (res.ok) bytes = new Uint8Array(await res.arrayBuffer());
    } catch {
      bytes = undefined;
    }
    const link = makeShareLink(location.href, viewer.state.toJSON(), this.layer.managedLayer.name, this.spec, bytes);
    const copied = await copyText(link.url);
    this.note.textContent = `${copied ? "Copied." : "Could not reach the clipboard: copy the link below."} ${link.note}`;
    this.linkBox.value = link.url;
    this.linkBox.hidden = false;
    (globalThis as { volmicroLastShareLink?: ShareLink }).volmicroLastShareLink = link;
    return link;
  }
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(4).replace(/\.?0+$/, "");
}
