/**
 * The live training plot: PSNR (left axis) and loss (log scale, right axis) against the step,
 * as a small SVG string (numbers only go in, so it is safe as innerHTML). No DOM imports.
 */
import type { StepLog } from "../../fit/fitter.js";

export function progressSvg(log: readonly StepLog[], iterations: number, width = 300, height = 110): string {
  const pad = { l: 34, r: 40, t: 8, b: 18 };
  const w = width - pad.l - pad.r, h = height - pad.t - pad.b;
  const x = (step: number) => pad.l + (w * step) / Math.max(1, iterations - 1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="9" font-family="sans-serif">`,
    `<rect x="${pad.l}" y="${pad.t}" width="${w}" height="${h}" fill="none" stroke="#444"/>`,
  ];
  const finite = log.filter((s) => Number.isFinite(s.psnr) && Number.isFinite(s.loss) && s.loss > 0);
  if (finite.length >= 1) {
    const p = finite.map((s) => s.psnr), l = finite.map((s) => Math.log10(s.loss));
    const [p0, p1] = span(p), [l0, l1] = span(l);
    const yP = (v: number) => pad.t + h - (h * (v - p0)) / (p1 - p0);
    const yL = (v: number) => pad.t + h - (h * (v - l0)) / (l1 - l0);
    const line = (ys: number[], y: (v: number) => number) => finite.map((s, i) => `${x(s.step).toFixed(1)},${y(ys[i]!).toFixed(1)}`).join(" ");
    parts.push(
      `<polyline fill="none" stroke="#f0a030" stroke-width="1" points="${line(l, yL)}"/>`,
      `<polyline fill="none" stroke="#4fc3f7" stroke-width="1.5" points="${line(p, yP)}"/>`,
      `<text x="${pad.l - 3}" y="${pad.t + 8}" text-anchor="end" fill="#4fc3f7">${p1.toFixed(1)}</text>`,
      `<text x="${pad.l - 3}" y="${pad.t + h}" text-anchor="end" fill="#4fc3f7">${p0.toFixed(1)}</text>`,
      `<text x="${pad.l + w + 3}" y="${pad.t + 8}" fill="#f0a030">1e${l1.toFixed(1)}</text>`,
      `<text x="${pad.l + w + 3}" y="${pad.t + h}" fill="#f0a030">1e${l0.toFixed(1)}</text>`,
    );
  }
  parts.push(
    `<text x="${pad.l}" y="${height - 5}" fill="#999">0</text>`,
    `<text x="${pad.l + w}" y="${height - 5}" text-anchor="end" fill="#999">${iterations} steps</text>`,
    `<text x="${pad.l + w / 2}" y="${height - 5}" text-anchor="middle"><tspan fill="#4fc3f7">PSNR dB</tspan> <tspan fill="#f0a030">loss</tspan></text>`,
    "</svg>",
  );
  return parts.join("");
}

function span(v: number[]): [number, number] {
  let lo = Math.min(...v), hi = Math.max(...v);
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  return [lo, hi];
}
