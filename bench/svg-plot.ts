/** A tiny SVG line plot (no dependencies): series of (x, y) points, optional log-scale x, legend. */

export interface Series {
  name: string;
  points: Array<[number, number]>;
  /** Dashed line (e.g. for a variant). */
  dashed?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  width?: number;
  height?: number;
}

const COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const MARKERS = ["circle", "square", "triangle", "diamond"] as const;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** About `n` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + 1e-9 * step; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) { const t = m * 10 ** e; if (t >= lo * 0.999 && t <= hi * 1.001) out.push(Number(t.toPrecision(6))); }
  }
  return out.length >= 2 ? out : [lo, hi].map((t) => Number(t.toPrecision(2)));
}

function fmt(t: number): string {
  return Math.abs(t) >= 1000 || (Math.abs(t) < 0.01 && t !== 0) ? t.toExponential(0) : String(Number(t.toPrecision(3)));
}

export function linePlot(o: PlotOptions): string {
  const W = o.width ?? 780, H = o.height ?? 440;
  const m = { l: 64, r: 270, t: 36, b: 50 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const pts = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logX || x > 0));
  let [x0, x1] = pts.length ? [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = pts.length ? [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))] : [0, 1];
  if (o.logX) { x0 /= 1.15; x1 *= 1.15; } else { const d = (x1 - x0 || 1) * 0.05; x0 -= d; x1 += d; }
  { const d = (y1 - y0 || Math.abs(y1) || 1) * 0.08; y0 -= d; y1 += d; }
  const fx = (x: number) => m.l + (o.logX ? (Math.log(x) - Math.log(x0)) / (Math.log(x1) - Math.log(x0)) : (x - x0) / (x1 - x0)) * pw;
  const fy = (y: number) => m.t + (1 - (y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(o.title)}</text>`);
  // grid and ticks
  for (const t of o.logX ? logTicks(x0, x1) : niceTicks(x0, x1)) {
    const x = fx(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${m.t + ph}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x}" y="${m.t + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    const y = fy(t).toFixed(1);
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  // series
  o.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logX || x > 0)).sort((a, b) => a[0] - b[0]);
    if (p.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ` stroke-dasharray="6 4"` : ""} points="${p.map(([x, y]) => `${fx(x).toFixed(1)},${fy(y).toFixed(1)}`).join(" ")}"/>`);
    for (const [x, y] of p) parts.push(marker(MARKERS[i % MARKERS.length]!, fx(x), fy(y), color));
    const ly = m.t + 8 + 18 * i;
    parts.push(`<line x1="${m.l + pw + 12}" y1="${ly}" x2="${m.l + pw + 36}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ` stroke-dasharray="6 4"` : ""}/>`);
    parts.push(marker(MARKERS[i % MARKERS.length]!, m.l + pw + 24, ly, color));
    parts.push(`<text x="${m.l + pw + 42}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

function marker(kind: (typeof MARKERS)[number], x: number, y: number, color: string): string {
  const r = 4, X = x.toFixed(1), Y = y.toFixed(1);
  switch (kind) {
    case "circle": return `<circle cx="${X}" cy="${Y}" r="${r}" fill="${color}"/>`;
    case "square": return `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
    case "triangle": return `<polygon points="${X},${(y - r - 1).toFixed(1)} ${(x - r - 1).toFixed(1)},${(y + r).toFixed(1)} ${(x + r + 1).toFixed(1)},${(y + r).toFixed(1)}" fill="${color}"/>`;
    case "diamond": return `<polygon points="${X},${(y - r - 1).toFixed(1)} ${(x + r + 1).toFixed(1)},${Y} ${X},${(y + r + 1).toFixed(1)} ${(x - r - 1).toFixed(1)},${Y}" fill="${color}"/>`;
  }
}
