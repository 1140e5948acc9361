/** The training log as JSON lines and as a four-panel figure like the paper's Figure 1. */
import { figureSvg } from "../plot/svg.js";
import type { StepLog } from "./fitter.js";

export function curvesJsonl(log: StepLog[]): string {
  return log.map((s) => JSON.stringify(s)).join("\n") + "\n";
}

export function curvesSvg(log: StepLog[], title: string): string {
  const steps = log.map((s) => s.step);
  let best = 0;
  log.forEach((s, i) => { if (s.psnr > log[best]!.psnr) best = i; });
  const final = log[log.length - 1];
  return figureSvg([
    { title: "(a) Total objective", xLabel: "step", yLabel: "loss (log)", logY: true, series: [{ x: steps, y: log.map((s) => s.loss) }] },
    {
      title: "(b) Reconstruction quality", xLabel: "step", yLabel: "PSNR (dB)", series: [{ x: steps, y: log.map((s) => s.psnr), color: "#2ca02c" }],
      ...(log.length ? { hlines: [{ y: log[best]!.psnr, label: `best ${log[best]!.psnr.toFixed(2)} dB`, color: "#d62728" }], markers: [{ x: log[best]!.step, y: log[best]!.psnr, label: `step ${log[best]!.step}` }] } : {}),
    },
    { title: "(c) Reconstruction error", xLabel: "step", yLabel: "MSE (log)", logY: true, series: [{ x: steps, y: log.map((s) => s.mse), color: "#ff7f0e" }] },
    {
      title: "(d) Model capacity", xLabel: "step", yLabel: "Gaussians", series: [{ x: steps, y: log.map((s) => s.gaussians), color: "#9467bd" }],
      ...(final ? { hlines: [{ y: final.gaussians, label: `final ${final.gaussians}` }] } : {}),
    },
  ], 2, title);
}
