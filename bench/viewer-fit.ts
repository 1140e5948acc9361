/**
 * The "Compress this layer" part of `npm run bench:viewer`: the demo's zarr layer compressed in the
 * page (whole volume, the demo's bit budget, the "Standard" preset), and `vmg compress` on the same
 * zarr with the same budget, iterations and seed, for the PSNR comparison. The WebGPU engine is
 * measured when asked to (`webgpu`) and the page offers it; otherwise its fields are null.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser } from "puppeteer";
import { ROOT } from "../demo/build.js";
import type { DemoData } from "../demo/make-data.js";
import type { StaticServer } from "../demo/server.js";
import { demoUrl } from "../demo/state.js";
import { PRESETS } from "../src/viewer/compress/estimate.js";

export interface FitBench {
  fit_cpu_s: number;
  fit_cpu_psnr: number;
  fit_webgpu_s: number | null;
  fit_webgpu_psnr: number | null;
  fit_cli_psnr: number;
}

interface Outcome { psnr: number; ssim: number; fitSeconds: number; seconds: number; fileBytes: number; gaussians: number }

const PRESET = "standard";

export async function benchFit(o: { browser: Browser; server: StaticServer; data: DemoData; bpp: number; webgpu: boolean; log: (s: string) => void }): Promise<FitBench> {
  const iterations = PRESETS.find((p) => p.id === PRESET)!.iterations;
  const zarrUrl = `${o.server.url}data/${o.data.name}.zarr/`;
  const inPage = async (engine: "cpu" | "webgpu"): Promise<Outcome | string> => {
    const page = await o.browser.newPage();
    try {
      await page.setViewport({ width: 1400, height: 800, deviceScaleFactor: 1 });
      const [nz, ny, nx] = o.data.shape;
      const state = {
        dimensions: { x: [1, ""], y: [1, ""], z: [1, ""] }, position: [nx / 2, ny / 2, nz / 2], layout: "xy",
        layers: [{ type: "image", name: "original", source: `zarr://${zarrUrl}`, tab: "volmicro" }],
        selectedLayer: { layer: "original", visible: true, size: 420 },
      };
      await page.goto(demoUrl(o.server.url, state));
      await page.waitForSelector(".volmicro-compress .volmicro-region option[value='view']", { timeout: 120_000 });
      const engines = await page.$$eval(".volmicro-compress .volmicro-engine option", (os) => os.map((x) => (x as HTMLOptionElement).value));
      if (!engines.includes(engine)) return `the page offers no ${engine} engine`;
      await page.select(".volmicro-compress .volmicro-budget-mode", "bpp");
      await page.$eval(".volmicro-compress .volmicro-budget-value", (e, v) => { (e as HTMLInputElement).value = String(v); e.dispatchEvent(new Event("input")); }, o.bpp);
      await page.select(".volmicro-compress .volmicro-preset", PRESET);
      await page.select(".volmicro-compress .volmicro-region", "whole:0");
      await page.select(".volmicro-compress .volmicro-engine", engine);
      await page.click(".volmicro-compress .volmicro-start");
      // Poll from here: one in-page wait would outlast the protocol timeout on a software GPU.
      const deadline = performance.now() + 1_800_000;
      for (;;) {
        const state = await page.$eval(".volmicro-compress", (e) => e.getAttribute("data-state") ?? "");
        if (state === "done" || state === "error") break;
        if (performance.now() > deadline) return "the fit did not finish within 30 minutes";
        await new Promise((r) => setTimeout(r, 2000));
      }
      const error = await page.$eval(".volmicro-compress .volmicro-error", (e) => e.textContent ?? "");
      if (error) return error;
      return await page.evaluate(() => (globalThis as unknown as { volmicroLastCompress: Outcome }).volmicroLastCompress);
    } finally {
      await page.close();
    }
  };

  o.log(`in-page fit, CPU engine: whole demo volume, ${o.bpp} bpp, ${iterations} steps…`);
  const cpu = await inPage("cpu");
  if (typeof cpu === "string") throw new Error(`in-page CPU fit failed: ${cpu}`);
  o.log(`  ${cpu.fitSeconds.toFixed(1)} s fitting (${cpu.seconds.toFixed(1)} s in all), PSNR ${cpu.psnr.toFixed(2)} dB, SSIM ${cpu.ssim.toFixed(4)}, ${cpu.fileBytes} bytes`);
  let gpu: Outcome | string = "skipped (see webgpu_not_measured)";
  if (o.webgpu) {
    o.log("in-page fit, WebGPU engine…");
    gpu = await inPage("webgpu");
  }
  if (typeof gpu === "string") o.log(`  WebGPU fit not measured: ${gpu}`);
  else o.log(`  ${gpu.fitSeconds.toFixed(1)} s fitting, PSNR ${gpu.psnr.toFixed(2)} dB`);

  o.log("vmg compress on the same zarr, budget, steps and seed…");
  const dir = mkdtempSync(join(tmpdir(), "vmg-bench-viewer-"));
  let cli: { psnr: number; seconds: number };
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(ROOT, "bin/vmg.mjs"), "compress", o.data.zarr, "-o", join(dir, "cli.vmg"),
      "--bpp", String(o.bpp), "--iterations", String(iterations), "--seed", "1", "--json",
    ], { cwd: ROOT, maxBuffer: 1 << 20 });
    cli = JSON.parse(stdout.trim().split("\n").pop()!) as { psnr: number; seconds: number };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  o.log(`  PSNR ${cli.psnr.toFixed(2)} dB in ${cli.seconds.toFixed(1)} s (worker threads); in-page CPU − CLI = ${(cpu.psnr - cli.psnr).toFixed(2)} dB`);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    fit_cpu_s: r2(cpu.fitSeconds), fit_cpu_psnr: r2(cpu.psnr),
    fit_webgpu_s: typeof gpu === "string" ? null : r2(gpu.fitSeconds),
    fit_webgpu_psnr: typeof gpu === "string" ? null : r2(gpu.psnr),
    fit_cli_psnr: r2(cli.psnr),
  };
}
