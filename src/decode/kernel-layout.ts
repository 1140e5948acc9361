/**
 * The numbers the two row planners (rows.ts in JavaScript, asm/decode-kernel.ts in WebAssembly)
 * and the WebAssembly module's memory share: one description, read by both compilers. Plain
 * integer constants only (and layoutSignature, in the subset both languages share), so that the
 * file is valid TypeScript and valid AssemblyScript.
 */

/** Anchors every 2^ANCHOR_BITS voxels along a row (see rows.ts). */
export const ANCHOR_BITS = 6;
/** Anchor moves from row to row that the JS path's carried ratio covers with its power table. */
export const MAX_ANCHOR_MOVE = 8;
/** The JS path carries the ratio when Axx, |Axy| ≤ this: every factor within exp(±128). (The WebAssembly kernel computes it per row.) */
export const MAX_CARRY_CURVATURE = 16;
/** exp(-q/2) at an anchor is tabulated at steps of 1/EXP_STEPS in q/2 … */
export const EXP_STEPS = 32;
/** … over this many entries (q/2 from 0 to past r²/2 for the largest radius, 8σ). */
export const EXP_TABLE_LENGTH = EXP_STEPS * 33 + 2;

// WebAssembly memory, byte offsets. Below TABLES_PTR: the module's own static data (none today).
/** The exp table (EXP_TABLE_LENGTH f64), written by the host once per instance. */
export const TABLES_PTR = 65536;
/** Start of the per-call area (kernels, field, values, background tables), laid out by the host. */
export const CALL_PTR = 131072;
/** Alignment of every per-call array, and the bytes kept free before and after the field (the walk's masked vector lanes touch up to 3 voxels beyond a row segment). */
export const CALL_ALIGN = 16;

/** f64 arrays of the row planner's per-call scratch (per row of a slice: b, qmin, xm, xs, xe, e and the ratio at xs). */
export const ROW_ARRAYS = 7;

/** One kernel record in the per-call area: f64 fields at these indices, KREC_STRIDE f64 apart. */
export const KREC_CX = 0;
export const KREC_CY = 1;
export const KREC_CZ = 2;
export const KREC_AMP = 3;
export const KREC_AXX = 4;
export const KREC_AXY = 5;
export const KREC_AXZ = 6;
export const KREC_AYY = 7;
export const KREC_AYZ = 8;
export const KREC_AZZ = 9;
export const KREC_CYY = 10;
export const KREC_CZZ = 11;
export const KREC_CYZ = 12;
export const KREC_R2 = 13;
export const KREC_FLOOR = 14;
export const KREC_STRIDE = 16;

/**
 * One row-segment record of the fitter's recording splat (byte offsets; SEG_BYTES apart): dx at the
 * segment's anchor, dy, dz (f64); the field's byte address of its first 4-voxel step, that step's
 * lane index from the anchor, the segment's lanes [lo, hi) and its steps (i32). Its e = exp(−q/2)
 * values follow in the value records, one f32x4 per step (zero outside the segment).
 */
export const SEG_DX = 0;
export const SEG_DY = 8;
export const SEG_DZ = 16;
export const SEG_P = 24;
export const SEG_M0 = 28;
export const SEG_LO = 32;
export const SEG_HI = 36;
export const SEG_STEPS = 40;
export const SEG_BYTES = 48;
/** Moments per kernel the moments pass writes (f64; gradient.ts MOMENT_STRIDE, in its order). */
export const KMOMENTS = 11;

/** Output element kinds of the conversion sweep. */
export const OUT_U8 = 1;
export const OUT_U16 = 2;
export const OUT_U32 = 3;
export const OUT_I8 = 4;
export const OUT_I16 = 5;
export const OUT_I32 = 6;
export const OUT_F32 = 7;

/**
 * A number mixed from every constant above: the module exports it (`layout()`) and the host refuses
 * a module whose number is not its own (a build of another layout decodes wrongly). A constant
 * added above is added here. (`number` is f64 in AssemblyScript: the same arithmetic in both.)
 */
export function layoutSignature(): number {
  let h: number = 17;
  h = (h * 31 + <number>ANCHOR_BITS) % 4294967291;
  h = (h * 31 + <number>MAX_ANCHOR_MOVE) % 4294967291;
  h = (h * 31 + <number>MAX_CARRY_CURVATURE) % 4294967291;
  h = (h * 31 + <number>EXP_STEPS) % 4294967291;
  h = (h * 31 + <number>EXP_TABLE_LENGTH) % 4294967291;
  h = (h * 31 + <number>TABLES_PTR) % 4294967291;
  h = (h * 31 + <number>CALL_PTR) % 4294967291;
  h = (h * 31 + <number>CALL_ALIGN) % 4294967291;
  h = (h * 31 + <number>ROW_ARRAYS) % 4294967291;
  h = (h * 31 + <number>KREC_CX) % 4294967291;
  h = (h * 31 + <number>KREC_CY) % 4294967291;
  h = (h * 31 + <number>KREC_CZ) % 4294967291;
  h = (h * 31 + <number>KREC_AMP) % 4294967291;
  h = (h * 31 + <number>KREC_AXX) % 4294967291;
  h = (h * 31 + <number>KREC_AXY) % 4294967291;
  h = (h * 31 + <number>KREC_AXZ) % 4294967291;
  h = (h * 31 + <number>KREC_AYY) % 4294967291;
  h = (h * 31 + <number>KREC_AYZ) % 4294967291;
  h = (h * 31 + <number>KREC_AZZ) % 4294967291;
  h = (h * 31 + <number>KREC_CYY) % 4294967291;
  h = (h * 31 + <number>KREC_CZZ) % 4294967291;
  h = (h * 31 + <number>KREC_CYZ) % 4294967291;
  h = (h * 31 + <number>KREC_R2) % 4294967291;
  h = (h * 31 + <number>KREC_FLOOR) % 4294967291;
  h = (h * 31 + <number>KREC_STRIDE) % 4294967291;
  h = (h * 31 + <number>SEG_DX) % 4294967291;
  h = (h * 31 + <number>SEG_DY) % 4294967291;
  h = (h * 31 + <number>SEG_DZ) % 4294967291;
  h = (h * 31 + <number>SEG_P) % 4294967291;
  h = (h * 31 + <number>SEG_M0) % 4294967291;
  h = (h * 31 + <number>SEG_LO) % 4294967291;
  h = (h * 31 + <number>SEG_HI) % 4294967291;
  h = (h * 31 + <number>SEG_STEPS) % 4294967291;
  h = (h * 31 + <number>SEG_BYTES) % 4294967291;
  h = (h * 31 + <number>KMOMENTS) % 4294967291;
  h = (h * 31 + <number>OUT_U8) % 4294967291;
  h = (h * 31 + <number>OUT_U16) % 4294967291;
  h = (h * 31 + <number>OUT_U32) % 4294967291;
  h = (h * 31 + <number>OUT_I8) % 4294967291;
  h = (h * 31 + <number>OUT_I16) % 4294967291;
  h = (h * 31 + <number>OUT_I32) % 4294967291;
  h = (h * 31 + <number>OUT_F32) % 4294967291;
  return h;
}
