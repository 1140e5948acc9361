/**
 * Minimal SVG line charts (no dependencies): panels with linear or log-10 axes, reference lines
 * and markers, composed into a grid. Used for training curves and rate-distortion plots.
 */

export interface Series {
  x: number[];
  y: number[];
  label?: string;
  color?: string;
  /** Mark every point (a line is still drawn through two or more). */
  points?: boolean;
  /** Shape of those marks (default circle): shapes tell overlapping series apart. */
  marker?: MarkerShape;
  /** Dashed line, e.g. for a variant of another series. */
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logY?: boolean;
  logX?: boolean;
  /** Legend in a column right of the plot area instead of inside it (for many series). */
  legendRight?: boolean;
  /** Horizontal reference lines (dashed). */
  hlines?: Array<{ y: number; label: string; color?: string }>;
  /** Marked points with a label. */
  markers?: Array<{ x: number; y: number; label: string; color?: string }>;
}

export const MARKER_SHAPES = ["circle", "square", "triangle", "diamond"] as const;
export type MarkerShape = (typeof MARKER_SHAPES)[number];

function markerSvg(shape: MarkerShape, x: number, y: number, color: string, r = 3.5): string {
  const f = (v: number) => v.toFixed(1);
  switch (shape) {
    case "circle": return `<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${color}"/>`;
    case "square": return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
    case "triangle": return `<polygon points="${f(x)},${f(y - r - 1)} ${f(x - r - 1)},${f(y + r)} ${f(x + r + 1)},${f(y + r)}" fill="${color}"/>`;
    case "diamond": return `<polygon points="${f(x)},${f(y - r - 1)} ${f(x + r + 1)},${f(y)} ${f(x)},${f(y + r + 1)} ${f(x - r - 1)},${f(y)}" fill="${color}"/>`;
  }
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** About `n` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Log-axis ticks (in log10 units): decades, or 1-2-5 steps when the range spans less than two. */
function logTicks(lo: number, hi: number): number[] {
  const decades: number[] = [];
  for (let k = Math.ceil(lo); k <= Math.floor(hi); k++) decades.push(k);
  if (decades.length >= 2) return decades.length > 7 ? decades.filter((k) => k % 2 === 0) : decades;
  const out: number[] = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) for (const m of [1, 2, 5]) {
    const t = k + Math.log10(m);
    if (t >= lo && t <= hi) out.push(t);
  }
  return out;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

/** One panel as an SVG group at (ox, oy) of size w × h. */
export function panelSvg(p: Panel, ox: number, oy: number, w: number, h: number): string {
  const m = { l: 62, r: p.legendRight ? 250 : 14, t: 26, b: 40 };
  const pw = w - m.l - m.r, ph = h - m.t - m.b;
  const tf = (v: number) => (p.logY ? Math.log10(Math.max(v, 1e-300)) : v);
  const tx = (v: number) => (p.logX ? Math.log10(Math.max(v, 1e-300)) : v);
  const shown = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!p.logY || y > 0) && (!p.logX || x > 0);
  const xs: number[] = [], ys: number[] = [];
  for (const s of p.series) s.x.forEach((x, j) => { if (shown(x, s.y[j]!)) { xs.push(tx(x)); ys.push(tf(s.y[j]!)); } });
  for (const r of p.hlines ?? []) if (Number.isFinite(r.y)) ys.push(tf(r.y));
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (!Number.isFinite(x0)) { x0 = 0; x1 = 1; }
  if (!Number.isFinite(y0)) { y0 = 0; y1 = 1; }
  if (x1 === x0) { x0 -= 0.5; x1 += 0.5; }
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.06, padX = (x1 - x0) * 0.04;
  y0 -= pad; y1 += pad;
  if (p.logX) { x0 -= padX; x1 += padX; }
  const Xt = (t: number) => ox + m.l + ((t - x0) / (x1 - x0)) * pw;
  const X = (v: number) => Xt(tx(v));
  const Y = (v: number) => oy + m.t + ph - ((tf(v) - y0) / (y1 - y0)) * ph;
  const Yt = (t: number) => oy + m.t + ph - ((t - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<rect x="${ox + m.l}" y="${oy + m.t}" width="${pw}" height="${ph}" fill="#fff" stroke="#444" stroke-width="0.8"/>`);
  parts.push(`<text x="${ox + m.l + pw / 2}" y="${oy + 16}" text-anchor="middle" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
  for (const t of p.logX ? logTicks(x0, x1) : niceTicks(x0, x1)) {
    const x = Xt(t).toFixed(1), label = p.logX ? fmt(10 ** t) : fmt(t);
    parts.push(`<line x1="${x}" y1="${oy + m.t}" x2="${x}" y2="${oy + m.t + ph + 4}" stroke="#ddd"/><text x="${x}" y="${oy + m.t + ph + 16}" text-anchor="middle" font-size="10">${label}</text>`);
  }
  const yt = p.logY ? logTicks(y0, y1) : niceTicks(y0, y1);
  for (const t of yt) {
    const label = p.logY ? fmt(10 ** t) : fmt(t);
    parts.push(`<line x1="${ox + m.l - 4}" y1="${Yt(t)}" x2="${ox + m.l + pw}" y2="${Yt(t)}" stroke="#ddd"/><text x="${ox + m.l - 6}" y="${Yt(t) + 3}" text-anchor="end" font-size="10">${label}</text>`);
  }
  parts.push(`<text x="${ox + m.l + pw / 2}" y="${oy + h - 6}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`);
  parts.push(`<text transform="translate(${ox + 14},${oy + m.t + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(p.yLabel)}</text>`);
  p.series.forEach((s, i) => {
    const color = s.color ?? colorAt(i);
    const pts = s.x.map((x, j) => [x, s.y[j]!] as const).filter(([x, y]) => shown(x, y)).sort((a, b) => a[0] - b[0]);
    const dash = s.dashed ? ` stroke-dasharray="6,4"` : "";
    if (s.points) {
      for (const [x, y] of pts) parts.push(markerSvg(s.marker ?? "circle", X(x), Y(y), color));
    }
    if (pts.length > 1) {
      const d = pts.map(([x, y], j) => `${j ? "L" : "M"}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join("");
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.3"${dash}/>`);
    }
  });
  for (const r of p.hlines ?? []) {
    if (!Number.isFinite(r.y)) continue;
    parts.push(`<line x1="${ox + m.l}" y1="${Y(r.y)}" x2="${ox + m.l + pw}" y2="${Y(r.y)}" stroke="${r.color ?? "#555"}" stroke-dasharray="5,4"/><text x="${ox + m.l + pw - 4}" y="${Y(r.y) - 4}" text-anchor="end" font-size="10" fill="${r.color ?? "#555"}">${esc(r.label)}</text>`);
  }
  for (const mk of p.markers ?? []) {
    const right = X(mk.x) > ox + m.l + 0.75 * pw; // keep the label inside the panel
    parts.push(`<circle cx="${X(mk.x)}" cy="${Y(mk.y)}" r="3.5" fill="none" stroke="${mk.color ?? "#d62728"}" stroke-width="1.5"/><text x="${X(mk.x) + (right ? -6 : 6)}" y="${Y(mk.y) + 14}" text-anchor="${right ? "end" : "start"}" font-size="10" fill="${mk.color ?? "#d62728"}">${esc(mk.label)}</text>`);
  }
  const labelled = p.series.filter((s) => s.label);
  labelled.forEach((s, i) => {
    const y = oy + m.t + 12 + 14 * i, lx = ox + m.l + (p.legendRight ? pw + 12 : 8);
    const dash = s.dashed ? ` stroke-dasharray="6,4"` : "";
    const color = s.color ?? colorAt(p.series.indexOf(s));
    parts.push(`<line x1="${lx}" y1="${y - 4}" x2="${lx + 16}" y2="${y - 4}" stroke="${color}" stroke-width="2"${dash}/><text x="${lx + 20}" y="${y}" font-size="10">${esc(s.label!)}</text>`);
    if (s.points) parts.push(markerSvg(s.marker ?? "circle", lx + 8, y - 4, color));
  });
  return `<g>${parts.join("")}</g>`;
}

/** Panels in a grid of `cols` columns. */
export function figureSvg(panels: Panel[], cols: number, title?: string, panelW = 420, panelH = 300): string {
  const rows = Math.ceil(panels.length / cols);
  const top = title ? 28 : 0;
  const W = cols * panelW, H = rows * panelH + top;
  const body = panels.map((p, i) => panelSvg(p, (i % cols) * panelW, top + Math.floor(i / cols) * panelH, panelW, panelH)).join("\n");
  const head = title ? `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>` : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif"><rect width="${W}" height="${H}" fill="#fafafa"/>${head}\n${body}\n</svg>\n`;
}
