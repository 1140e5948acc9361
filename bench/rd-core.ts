/**
 * One rate-distortion measurement: encode a volume at a byte budget with a codec, decode it, and
 * score the reconstruction with the project's own metric code (the same for every codec).
 */
import { DTYPES } from "../src/core/dtype.js";
import type { Volume } from "../src/core/volume.js";
import { evaluate } from "../src/metrics/evaluate.js";
import { psnrFromMse } from "../src/metrics/psnr.js";
import type { Codec, Decoded } from "./codecs/codec.js";

export interface Row {
  volume: string;
  codec: string;
  /** null for lossless codecs (no budget). */
  target_bpp: number | null;
  /** Achieved bits per voxel (all bytes), null where the budget is unreachable. */
  bpp: number | null;
  bytes: number | null;
  /** dB, peak = data range of the original (max - min). */
  psnr: number | null;
  /** dB, peak = the dtype's maximum (65535 for uint16, 255 for uint8). */
  psnr_dtype: number | null;
  /** 3D SSIM, data range of the original (as `vmg eval`). */
  ssim: number | null;
  encode_s: number | null;
  decode_s: number | null;
  decode_mvox_s: number | null;
  /** original bytes / stream bytes */
  ratio: number | null;
  lpips: "n/a";
  /** The knob the search settled on, and anything a reader must know. */
  knob?: string;
  note?: string;
  search_s?: number;
  /** Decode timing replaced by `--retime` (decoded again with no other benchmark job running). */
  decode_retimed?: boolean;
}

export function voxels(v: Volume): number {
  return v.shape[0] * v.shape[1] * v.shape[2];
}

/** Decode timing: repeat while short (at most 5 decodes, 2 s of reported decode time), report the median. */
export const DECODE_RUNS = 5, DECODE_SECONDS = 2;

export async function timedDecode(codec: Codec, stream: Uint8Array): Promise<Decoded & { runs: number }> {
  const times: number[] = [];
  let dec: Decoded;
  do {
    dec = await codec.decode(stream);
    times.push(dec.seconds);
  } while (times.length < DECODE_RUNS && times.reduce((a, b) => a + b, 0) < DECODE_SECONDS);
  times.sort((a, b) => a - b);
  return { ...dec, seconds: times[times.length >> 1]!, runs: times.length };
}

const r = (x: number, d: number) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

export async function measure(name: string, volume: Volume, codec: Codec, targetBpp: number | null, keep?: (stream: Uint8Array) => void): Promise<Row> {
  const N = voxels(volume);
  const target = targetBpp === null ? Infinity : Math.floor((targetBpp * N) / 8);
  const base: Row = {
    volume: name, codec: codec.name, target_bpp: targetBpp, bpp: null, bytes: null, psnr: null, psnr_dtype: null,
    ssim: null, encode_s: null, decode_s: null, decode_mvox_s: null, ratio: null, lpips: "n/a",
  };
  const enc = await codec.encode(volume, target);
  if (!enc) return { ...base, note: `unreachable: no setting gets under ${target} bytes` };
  if (enc.bytes !== enc.stream.length) throw new Error(`${codec.name}: reported ${enc.bytes} bytes for a ${enc.stream.length}-byte stream`);
  if (enc.bytes > target) throw new Error(`${codec.name}: ${enc.bytes} bytes exceed the budget of ${target}`);
  keep?.(enc.stream);
  const dec = await timedDecode(codec, enc.stream);
  if (dec.data.length !== N) throw new Error(`${codec.name}: decoded ${dec.data.length} voxels, expected ${N}`);
  if (dec.data.constructor !== volume.data.constructor) throw new Error(`${codec.name}: decoded a ${dec.data.constructor.name}, expected ${volume.data.constructor.name}`);
  const q = evaluate(volume.data, dec.data, volume.shape);
  const dtypePeak = DTYPES[volume.dtype].max;
  const row: Row = {
    ...base,
    bpp: r((8 * enc.bytes) / N, 5),
    bytes: enc.bytes,
    psnr: r(q.psnr, 3),
    psnr_dtype: r(q.mse === 0 ? Infinity : psnrFromMse(q.mse, dtypePeak), 3),
    ssim: r(q.ssim, 5),
    encode_s: r(enc.seconds, 3),
    decode_s: r(dec.seconds, 4),
    decode_mvox_s: r(N / 1e6 / dec.seconds, 2),
    ratio: r((N * DTYPES[volume.dtype].bytes) / enc.bytes, 2),
  };
  if (enc.knob) row.knob = enc.knob;
  if (enc.note) row.note = enc.note;
  if (Number.isFinite(target) && !enc.note && enc.bytes < 0.9 * target) row.note = `spent ${(100 * enc.bytes / target).toFixed(0)} % of the budget`;
  if (enc.searchSeconds !== undefined) row.search_s = r(enc.searchSeconds, 2);
  return row;
}

/** JSON has no Infinity: a lossless row's PSNR is written as the string "inf". */
export function jsonSafe(rows: Row[]): unknown[] {
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "number" && !Number.isFinite(v) ? (v > 0 ? "inf" : "-inf") : v])));
}

export function fromJson(rows: unknown[]): Row[] {
  return rows.map((row) => Object.fromEntries(Object.entries(row as Record<string, unknown>).map(([k, v]) => [k, v === "inf" ? Infinity : v === "-inf" ? -Infinity : v])) as unknown as Row);
}
