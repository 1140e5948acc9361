/**
 * "Compress this layer": the VolMicro tab of a zarr image layer. A form (budget with its outcome
 * shown before starting, quality preset, region, engine), Start / Cancel, live progress (stage,
 * step, ETA, loss, PSNR, Gaussians, a small plot), then the result (size, ratio, bpp, PSNR, SSIM)
 * with "Add as layer", "Download .vmg" and "Copy share link". The job itself lives in job.ts, so
 * this panel can be closed and reopened while a fit runs.
 */
import type { UserLayer } from "neuroglancer/unstable/layer/index.js";
import { RefCounted } from "neuroglancer/unstable/util/disposable.js";
import { HttpStore } from "../../io/http-store.js";
import { DTYPES } from "../../core/dtype.js";
import type { Box } from "../../core/background.js";
import { openZarrVolume, type ZarrVolumeSource } from "../../io/zarr.js";
import { tabViewer } from "../tab/context.js";
import { button, copyText, el, FactTable, formatBytes } from "../tab/dom.js";
import { makeShareLink } from "../tab/share-link.js";
import { addVmgLayer } from "./add-layer.js";
import { cliCompressCommand, fitMemoryBytes, PAGE_FIT_BYTES, plainError, tooLargeMessage } from "./errors.js";
import { BUDGET_MODES, budgetOf, estimateBudget, PRESETS, type BudgetMode } from "./estimate.js";
import { CompressJob, layerJob, setLayerJob } from "./job.js";
import { progressSvg } from "./plot.js";
import type { FitEngineKind } from "./protocol.js";
import { viewRegion } from "./region.js";

export class CompressPanel extends RefCounted {
  readonly element = el("div", "volmicro-panel volmicro-compress");
  private source: ZarrVolumeSource | undefined;
  private readonly sourceFacts = new FactTable();
  private readonly mode = el("select");
  private readonly value = el("input");
  private readonly preset = el("select");
  private readonly region = el("select");
  private readonly engine = el("select");
  private readonly estimate = el("div", "volmicro-note volmicro-estimate");
  /** Shown instead of running out of memory: why the page will not fit the region, and the CLI command that will. */
  private readonly refusal = el("div", "volmicro-error volmicro-refusal");
  private readonly command = el("input", "volmicro-link volmicro-cli-command");
  private refused = false;
  private readonly start = button("Start", () => this.startJob(), "volmicro-button volmicro-primary volmicro-start");
  private readonly cancel = button("Cancel", () => layerJob(this.layer)?.cancel(), "volmicro-button volmicro-cancel");
  private readonly status = el("div", "volmicro-note volmicro-status");
  private readonly bar = el("div", "volmicro-progress", el("div"));
  private readonly progress = new FactTable();
  private readonly plot = el("div", "volmicro-plot");
  private readonly result = new FactTable();
  private readonly actions = el("div", "volmicro-actions");
  private readonly error = el("div", "volmicro-error");
  private readonly note = el("div", "volmicro-note volmicro-result-note");
  private watched: CompressJob | undefined;
  private unwatch: (() => void) | undefined;
  private frame = 0;
  private added: string | undefined;

  constructor(private readonly layer: UserLayer, private readonly storeUrl: string, private readonly spec: string) {
    super();
    for (const [id, m] of Object.entries(BUDGET_MODES)) this.mode.append(new Option(m.label, id));
    for (const p of PRESETS) this.preset.append(new Option(p.label, p.id, p.id === "standard", p.id === "standard"));
    this.engine.append(new Option("CPU (Web Worker)", "cpu", true, true));
    if ("gpu" in navigator) this.engine.append(new Option("WebGPU", "webgpu"));
    this.mode.className = "volmicro-budget-mode";
    this.value.className = "volmicro-budget-value";
    this.preset.className = "volmicro-preset";
    this.region.className = "volmicro-region";
    this.engine.className = "volmicro-engine";
    this.command.readOnly = true;
    this.value.type = "number";
    this.value.step = "any";
    this.value.min = "0";
    this.value.value = String(BUDGET_MODES.bpp.initial);
    this.mode.addEventListener("change", () => { this.value.value = String(BUDGET_MODES[this.mode.value as BudgetMode].initial); this.updateEstimate(); });
    for (const e of [this.value, this.region]) e.addEventListener("input", () => this.updateEstimate());
    this.region.addEventListener("change", () => this.updateEstimate());
    const row = (label: string, ...input: HTMLElement[]) => [el("label", "", label), el("div", "volmicro-inline", ...input)];
    this.element.append(
      el("div", "volmicro-heading", "Compress this layer to .vmg"),
      el("div", "volmicro-note", storeUrl),
      this.sourceFacts.element,
      el("div", "volmicro-form",
        ...row("Budget", this.mode, this.value),
        ...row("Quality", this.preset),
        ...row("Region", this.region),
        ...row("Engine", this.engine)),
      this.estimate,
      this.refusal,
      el("div", "volmicro-actions", this.start, this.cancel),
      this.status, this.bar, this.progress.element, this.plot,
      this.error, this.result.element, this.actions, this.note,
    );
    this.registerDisposer(() => { this.unwatch?.(); cancelAnimationFrame(this.frame); });
    void this.probe();
    const job = layerJob(layer);
    if (job) this.watch(job);
    this.render();
  }

  /** Read the store's metadata (no chunks) for shape, type and levels. */
  private async probe(): Promise<void> {
    this.status.textContent = "Reading the store's metadata…";
    try {
      this.source = await openZarrVolume(new HttpStore(this.storeUrl), this.storeUrl);
    } catch (e) {
      this.status.textContent = "";
      this.error.textContent = plainError(e, this.storeUrl);
      this.start.disabled = true;
      return;
    }
    if (this.wasDisposed) return;
    const s = this.source;
    const [nz, ny, nx] = s.shape;
    this.sourceFacts.set([
      ["Shape", `${nx} × ${ny} × ${nz} voxels (x × y × z)`],
      ["Data type", s.dtype],
      ["Format", `zarr v${s.zarrFormat}${s.levels.length > 1 ? `, OME-Zarr with ${s.levels.length} levels` : ""}`],
    ]);
    this.region.replaceChildren(new Option("Whole volume", "whole:0", true, true), new Option("Current view", "view"));
    s.levels.forEach((lv, i) => {
      if (i > 0) this.region.append(new Option(`Level ${i} (${[...lv.shape].reverse().join(" × ")})`, `whole:${i}`));
    });
    this.status.textContent = "";
    this.updateEstimate();
    this.render();
  }

  /** The chosen region: level, box (undefined: the whole level) and voxel count, or why not. */
  private chosenRegion(): { level: number; box: Box | undefined; voxels: number } | string {
    const s = this.source;
    if (!s) return "the store's metadata has not been read yet";
    const v = this.region.value;
    if (v === "view") {
      const box = viewRegion(tabViewer(), this.layer, [...s.levels[0]!.shape]);
      if (typeof box === "string") return box;
      return { level: 0, box, voxels: (box.z1 - box.z0) * (box.y1 - box.y0) * (box.x1 - box.x0) };
    }
    const level = Number(v.split(":")[1] ?? 0);
    const shape = s.levels[level]?.shape ?? s.shape;
    return { level, box: undefined, voxels: shape[0] * shape[1] * shape[2] };
  }

  private updateEstimate(): void {
    const r = this.chosenRegion();
    this.updateRefusal(typeof r === "string" ? undefined : r.voxels);
    if (typeof r === "string") { this.estimate.textContent = `Region: ${r}.`; return; }
    const e = estimateBudget(budgetOf(this.mode.value as BudgetMode, Number(this.value.value)), r.voxels, DTYPES[this.source!.dtype].bytes);
    const where = r.box ? ` (box x ${r.box.x0}–${r.box.x1}, y ${r.box.y0}–${r.box.y1}, z ${r.box.z0}–${r.box.z1})` : "";
    this.estimate.textContent = typeof e === "string"
      ? `Budget: ${e}.`
      : `${(r.voxels / 1e6).toFixed(2)} M voxels${where} → up to ${e.gaussians.toLocaleString("en")} Gaussians, ` +
        `file ≤ about ${formatBytes(e.bytes)}, ${e.bpp.toPrecision(2)} bpp, ratio ≈ ${e.ratio.toFixed(0)}× the raw voxels.`;
  }

  /**
   * Refuse a region whose fit would need more memory than the page may take (errors.ts), with the
   * `vmg compress` command that makes a chunked store of the layer instead, at the budget's bpp.
   */
  private updateRefusal(voxels: number | undefined): void {
    const bytesPerVoxel = this.source ? DTYPES[this.source.dtype].bytes : 0;
    const need = voxels === undefined ? 0 : fitMemoryBytes(voxels, bytesPerVoxel);
    this.refused = need > PAGE_FIT_BYTES;
    this.start.disabled = this.startBlocked();
    if (!this.refused) { this.refusal.replaceChildren(); return; }
    const value = Number(this.value.value);
    const e = estimateBudget(budgetOf(this.mode.value as BudgetMode, value), voxels!, bytesPerVoxel);
    const bpp = this.mode.value === "bpp" && value > 0 ? value : typeof e === "string" ? BUDGET_MODES.bpp.initial : e.bpp;
    const command = cliCompressCommand(this.storeUrl, this.layer.managedLayer.name, bpp);
    this.command.value = command;
    const copy = button("Copy command", () => void copyText(command), "volmicro-button volmicro-copy-command");
    this.refusal.replaceChildren(el("div", "", tooLargeMessage(voxels!, need, command)), el("div", "volmicro-inline", this.command, copy));
  }

  private startBlocked(): boolean {
    return this.watched?.state === "running" || !this.source || this.refused;
  }

  private startJob(): void {
    const r = this.chosenRegion();
    if (typeof r === "string") { this.error.textContent = `Cannot start: ${r}.`; return; }
    if (this.refused) return;
    const budget = budgetOf(this.mode.value as BudgetMode, Number(this.value.value));
    const check = estimateBudget(budget, r.voxels, DTYPES[this.source!.dtype].bytes);
    if (typeof check === "string") { this.error.textContent = `Cannot start: ${check}.`; return; }
    layerJob(this.layer)?.cancel();
    const job = new CompressJob({
      storeUrl: this.storeUrl, name: this.layer.managedLayer.name, level: r.level, ...(r.box ? { box: r.box } : {}),
      budget, iterations: PRESETS.find((p) => p.id === this.preset.value)!.iterations, seed: 1,
      engine: this.engine.value as FitEngineKind,
    });
    setLayerJob(this.layer, job);
    this.added = undefined;
    this.watch(job);
    this.render();
  }

  private watch(job: CompressJob): void {
    this.unwatch?.();
    this.watched = job;
    this.unwatch = job.changed.add(() => {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
    });
  }

  private render(): void {
    const job = this.watched;
    const running = job?.state === "running";
    for (const e of [this.mode, this.value, this.preset, this.region, this.engine]) e.disabled = running || !this.source;
    this.start.disabled = this.startBlocked();
    this.cancel.disabled = !running;
    this.element.dataset["state"] = job?.state ?? "idle";
    if (!job) return;
    const last = job.log[job.log.length - 1];
    const iterations = job.job.iterations;
    const fraction = job.state === "done" ? 1 : last ? (last.step + 1) / iterations : 0;
    (this.bar.firstChild as HTMLElement).style.width = `${(100 * fraction).toFixed(1)}%`;
    const eta = job.eta();
    this.status.textContent = {
      running: `Running: ${job.stage}${eta !== undefined ? `, about ${formatSeconds(eta)} left` : ""}…`,
      done: `Done in ${formatSeconds(job.outcome?.seconds ?? 0)}.`,
      error: "Stopped by an error.",
      cancelled: "Cancelled: nothing was added to the viewer.",
    }[job.state];
    this.progress.set(last ? [
      ["Step", `${last.step + 1} / ${iterations}`],
      ["Loss", last.loss.toExponential(3)],
      ["PSNR (fit)", `${last.psnr.toFixed(2)} dB`],
      ["Gaussians", last.gaussians.toLocaleString("en")],
    ] : []);
    this.plot.innerHTML = job.log.length ? progressSvg(job.log, iterations) : "";
    this.error.textContent = job.error ?? "";
    this.renderResult(job);
  }

  private renderResult(job: CompressJob): void {
    const o = job.outcome;
    if (!o) { this.result.set([]); this.actions.replaceChildren(); this.note.textContent = ""; return; }
    this.result.set([
      ["Size", `${formatBytes(o.bytes.length)} (${o.bytes.length.toLocaleString("en")} bytes)`],
      ["Ratio", `${(o.rawBytes / o.bytes.length).toFixed(1)}× smaller than the raw ${formatBytes(o.rawBytes)}`],
      ["Bits per voxel", ((o.bytes.length * 8) / o.voxels).toPrecision(3)],
      ["PSNR", `${o.psnr.toFixed(2)} dB`, "against the region read from the store, peak = its data range"],
      ["SSIM", o.ssim.toFixed(4)],
      ["Gaussians", o.gaussians.toLocaleString("en")],
      ["Time", `${formatSeconds(o.fitSeconds)} fitting, ${formatSeconds(o.seconds)} in all (${o.engine})`],
    ]);
    if (this.actions.childElementCount === 0) {
      this.actions.append(
        button("Add as layer", () => this.addLayer(job), "volmicro-button volmicro-primary volmicro-add-layer"),
        button("Download .vmg", () => this.download(job), "volmicro-button volmicro-download"),
        button("Copy share link", () => void this.copyLink(job), "volmicro-button volmicro-copy-link"),
      );
    }
  }

  private addLayer(job: CompressJob): string {
    if (this.added && tabViewer().layerManager.getLayerByName(this.added)) return this.added;
    const o = job.outcome!;
    const facts = job.job;
    const box = facts.box ?? { z0: 0, y0: 0, x0: 0, z1: 0, y1: 0, x1: 0 };
    const bpp = ((o.bytes.length * 8) / o.voxels).toPrecision(2);
    const managed = addVmgLayer(tabViewer(), this.layer, `${this.layer.managedLayer.name} (vmg ${bpp} bpp)`, {
      sourceUrl: `vmg://${job.resultUrl(tabViewer())}`, box,
      ...(job.facts?.voxelSize ? { voxelSize: job.facts.voxelSize } : {}),
      ...(job.facts?.unit ? { unit: job.facts.unit } : {}),
      ...(job.facts?.origin ? { origin: job.facts.origin } : {}),
    });
    this.added = managed.name;
    this.note.textContent = `Added layer "${managed.name}" above the original.`;
    return managed.name;
  }

  private download(job: CompressJob): void {
    const a = el("a");
    a.href = job.resultUrl(tabViewer());
    a.download = `${this.layer.managedLayer.name.replace(/[^\w.-]+/g, "_")}.vmg`;
    document.body.append(a);
    a.click();
    a.remove();
  }

  /** The link shows the compressed layer: it is added first if it is not in the viewer yet. */
  private async copyLink(job: CompressJob): Promise<void> {
    const name = this.addLayer(job);
    const viewer = tabViewer();
    const link = makeShareLink(location.href, viewer.state.toJSON(), name, `vmg://${job.resultUrl(tabViewer())}`, job.outcome!.bytes);
    const copied = await copyText(link.url);
    this.note.textContent = `${copied ? "Link copied." : "Could not reach the clipboard."} ${link.note}`;
    (globalThis as { volmicroLastShareLink?: unknown }).volmicroLastShareLink = link;
  }
}

function formatSeconds(s: number): string {
  return s < 90 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
