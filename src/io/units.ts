/**
 * Length units as OME-NGFF names ("micrometer", …). Sources spell them many ways (ImageJ "micron",
 * OME-XML "µm", tifffile "um"); we store one spelling so voxel sizes compare and convert.
 */
const ALIASES: Record<string, string> = {
  "µm": "micrometer", "μm": "micrometer", um: "micrometer", micron: "micrometer", microns: "micrometer", micrometre: "micrometer",
  nm: "nanometer", nanometre: "nanometer",
  mm: "millimeter", millimetre: "millimeter",
  cm: "centimeter", centimetre: "centimeter",
  m: "meter", metre: "meter",
  "å": "angstrom", "Å": "angstrom", a: "angstrom",
  pm: "picometer", picometre: "picometer",
  in: "inch", inches: "inch",
};

/** Metres per unit as mantissa x 10^exponent, so decimal conversions (um -> nm) are exact. */
const METRES: Record<string, [number, number]> = {
  angstrom: [1, -10], picometer: [1, -12], nanometer: [1, -9], micrometer: [1, -6], millimeter: [1, -3],
  centimeter: [1, -2], decimeter: [1, -1], meter: [1, 0], kilometer: [1, 3], inch: [2.54, -2], foot: [3.048, -1],
};

/** The OME-NGFF spelling of a length unit; undefined for none/pixel. Unknown names pass through. */
export function normaliseUnit(unit: string): string | undefined {
  const u = unit.trim();
  if (u === "" || /^pixels?$/i.test(u) || u === "none") return undefined;
  return ALIASES[u] ?? ALIASES[u.toLowerCase()] ?? u.toLowerCase();
}

/** Factor converting `from` into `to`, or undefined when either is not a known length unit. */
export function unitFactor(from: string, to: string): number | undefined {
  const a = METRES[from], b = METRES[to];
  if (!a || !b) return undefined;
  const e = a[1] - b[1];
  const p = e >= 0 ? 10 ** e : 1 / 10 ** -e; // 1 / 1000 rounds once, unlike 10 ** -3 * x chains
  return (a[0] / b[0]) * p;
}

/** Metres per `unit` in any spelling normaliseUnit knows ("µm", "um", "micrometer", …); undefined when it names no length unit. */
export function metresPerUnit(unit: string): number | undefined {
  const u = normaliseUnit(unit);
  return u === undefined ? undefined : unitFactor(u, "meter");
}
