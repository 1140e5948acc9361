/**
 * The "Compress this layer" Web Worker: reads the region from the zarr store with zarrita (not
 * through Neuroglancer's chunks), fits it with the project's fitter (`fitVolume`; CPU: the local
 * engine on this thread), then decodes the file exactly as the viewer will and measures PSNR and
 * SSIM against what was read. The page cancels by terminating the worker. Errors go to the page
 * as WireErrors (core/errors.ts), which the page puts in plain words.
 */
import "../wasm-kernel.js"; // the fitter's forward and moments passes, and the check decode, on the WebAssembly kernel
import { HttpStore } from "../../io/http-store.js";
import { toWire } from "../../core/errors.js";
import { DTYPES } from "../../core/dtype.js";
import { fullBox, VmgDecoder } from "../../decode/decoder.js";
import { LocalEngine } from "../../fit/engine.js";
import { fitVolume } from "../../fit/fitter.js";
import { readVmg } from "../../format/vmg.js";
import { openZarrVolume } from "../../io/zarr.js";
import { evaluate } from "../../metrics/evaluate.js";
import { fitMemoryBytes, PAGE_FIT_BYTES, RegionTooLargeError, withMemoryGuard } from "./errors.js";
import type { FitJob, FromWorker, ToWorker } from "./protocol.js";
import { webgpuEngineFactory } from "./webgpu-engine-factory.js";

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

async function run(job: FitJob): Promise<void> {
  const started = performance.now();
  post({ type: "stage", stage: "opening the store" });
  const source = await openZarrVolume(new HttpStore(job.storeUrl), job.name, { level: job.level });
  const box = job.box ?? fullBox(source.shape);
  const voxels = (box.z1 - box.z0) * (box.y1 - box.y0) * (box.x1 - box.x0);
  // The panel refuses such a region before starting; this guards a job posted without it.
  if (fitMemoryBytes(voxels, DTYPES[source.dtype].bytes) > PAGE_FIT_BYTES) throw new RegionTooLargeError(voxels, DTYPES[source.dtype].bytes);
  post({ type: "stage", stage: `reading ${(voxels / 1e6).toFixed(1)} M voxels` });
  const t0 = performance.now();
  const volume = await withMemoryGuard("reading the region", () => source.read(job.box));
  const readSeconds = (performance.now() - t0) / 1000;
  post({ type: "source", facts: { shape: [...volume.shape], dtype: volume.dtype, ...(volume.voxelSize ? { voxelSize: volume.voxelSize } : {}), ...(volume.unit ? { unit: volume.unit } : {}), ...(source.origin ? { origin: source.origin } : {}), readSeconds } });

  const engine = job.engine === "webgpu" ? await webgpuEngineFactory() : undefined;
  const tFit = performance.now();
  const fit = await withMemoryGuard("fitting the region", () => fitVolume(volume, {
    budget: job.budget, iterations: job.iterations, seed: job.seed, source: job.name,
    engine: engine ?? (async (t) => new LocalEngine(t)),
    onStage: (stage) => post({ type: "stage", stage }),
    onStep: (step) => post({ type: "step", step }),
  }));
  const fitSeconds = (performance.now() - tFit) / 1000;

  post({ type: "stage", stage: "measuring PSNR and SSIM" });
  const file = readVmg(fit.bytes);
  const decoded = new VmgDecoder(file).decode(fullBox(file.header.shape));
  const m = evaluate(volume.data, decoded, volume.shape);
  const bytes = fit.bytes;
  post({
    type: "done",
    outcome: {
      bytes, gaussians: file.count, psnr: m.psnr, ssim: m.ssim, fitSeconds, seconds: (performance.now() - started) / 1000,
      rawBytes: volume.data.length * DTYPES[volume.dtype].bytes, voxels: volume.data.length,
      engine: job.engine === "webgpu" ? "WebGPU" : "CPU (one Web Worker thread)",
    },
  }, [bytes.buffer as ArrayBuffer]);
}

self.addEventListener("message", (e: MessageEvent<ToWorker>) => {
  if (e.data.type !== "start") return;
  const job = e.data.job;
  run(job).catch((err: unknown) => post({ type: "error", error: toWire(err) }));
});
