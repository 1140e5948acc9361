/**
 * Video codecs through ffmpeg, Z planes as frames of 12-bit gray video: values mapped into 12 bits
 * as (v - lo) / (hi - lo) · 4095 with lo and hi stored beside the stream; planes padded (edge
 * replicated) to even width and height, the true shape stored in the side information.
 *  - HEVC: libx265, preset medium, fractional CRF (bisection), `info=0` (no settings text in the stream).
 *  - AV1: libaom, cpu-used 6, integer CRF (coarse steps), constant quality (`-b:v 0`).
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Volume } from "../../src/core/volume.js";
import type { Codec } from "./codec.js";
import { hasCommand, limitNote, packStream, run, scratchDir, searchKnob, seconds, toDType, unpackStream, valueRange } from "./codec.js";

interface VideoSpec {
  name: string;
  label: string;
  encoder: string;
  format: string;
  args: (knob: number) => string[];
  knob: { lo: number; hi: number; steps: number; integer: boolean; label: string };
}

const SPECS: Record<"hevc" | "av1", VideoSpec> = {
  hevc: {
    name: "hevc", label: "HEVC x265 (12-bit gray)", encoder: "libx265", format: "hevc",
    args: (crf) => ["-c:v", "libx265", "-preset", "medium", "-x265-params", `crf=${crf.toFixed(3)}:info=0:log-level=error`],
    knob: { lo: 0, hi: 51, steps: 12, integer: false, label: "crf" },
  },
  av1: {
    name: "av1", label: "AV1 libaom (12-bit gray)", encoder: "libaom-av1", format: "obu",
    args: (crf) => ["-c:v", "libaom-av1", "-cpu-used", "6", "-crf", String(crf), "-b:v", "0", "-row-mt", "1", "-threads", "2"],
    knob: { lo: 0, hi: 63, steps: 8, integer: true, label: "crf" },
  },
};

let encodersCache: string | undefined;
function ffmpegHas(encoder: string): Promise<boolean> {
  if (!hasCommand("ffmpeg")) return Promise.resolve(false);
  if (encodersCache !== undefined) return Promise.resolve(encodersCache.includes(encoder));
  return run("ffmpeg", ["-hide_banner", "-encoders"]).then((s) => { encodersCache = s; return s.includes(encoder); }, () => false);
}

export function videoCodec(kind: "hevc" | "av1"): Codec {
  const spec = SPECS[kind];
  return {
    name: spec.name,
    label: spec.label,
    aptPackages: ["ffmpeg"],
    async available() { return (await ffmpegHas(spec.encoder)) ? true : `ffmpeg with ${spec.encoder} not found (Debian ffmpeg)`; },
    async encode(volume, targetBytes) {
      const [D, H, W] = volume.shape;
      const [lo, hi] = valueRange(volume.data);
      const W2 = W + (W & 1), H2 = H + (H & 1);
      const frames = to12bit(volume, lo, hi, W2, H2);
      const s = scratchDir(kind);
      try {
        writeFileSync(s.path("in.raw"), frames);
        const t0 = performance.now();
        const found = await searchKnob({
          ...spec.knob, target: targetBytes,
          encode: async (k) => {
            const out = s.path(`o.${spec.format}`);
            const t1 = performance.now();
            await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray12le", "-s", `${W2}x${H2}`, "-r", "25",
              "-i", s.path("in.raw"), ...spec.args(k), "-f", spec.format, out]);
            const secs = seconds(t1);
            const stream = packStream(volume.dtype, volume.shape, [lo, hi], new Uint8Array(readFileSync(out)));
            return { stream, bytes: stream.length, seconds: secs };
          },
        });
        if (!found) return null;
        return { ...found.best, knob: `${spec.knob.label}=${spec.knob.integer ? found.knob : found.knob.toFixed(3)}`, searchSeconds: seconds(t0), ...limitNote(found, targetBytes, `${spec.knob.label} ${spec.knob.lo}`) };
      } finally {
        s.done();
      }
    },
    async decode(stream) {
      const { dtype, shape, side, payload } = unpackStream(stream);
      const [D, H, W] = shape;
      const [lo, hi] = side as [number, number];
      const W2 = W + (W & 1), H2 = H + (H & 1);
      const s = scratchDir(`${kind}d`);
      try {
        const t0 = performance.now();
        writeFileSync(s.path(`o.${spec.format}`), payload);
        await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", spec.format, "-i", s.path(`o.${spec.format}`), "-f", "rawvideo", "-pix_fmt", "gray12le", s.path("d.raw")]);
        const raw = readFileSync(s.path("d.raw"));
        const q = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
        if (q.length !== D * H2 * W2) throw new Error(`${kind}: decoded ${q.length} samples, expected ${D * H2 * W2}`);
        const k = (hi - lo) / 4095;
        const vals = new Float32Array(D * H * W);
        for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) {
          const src = (z * H2 + y) * W2, dst = (z * H + y) * W;
          for (let x = 0; x < W; x++) vals[dst + x] = lo + q[src + x]! * k;
        }
        return { data: toDType(dtype, vals), seconds: seconds(t0) };
      } finally {
        s.done();
      }
    },
  };
}

function to12bit(volume: Volume, lo: number, hi: number, W2: number, H2: number): Uint8Array {
  const [D, H, W] = volume.shape;
  const out = new Uint16Array(D * H2 * W2);
  const k = hi > lo ? 4095 / (hi - lo) : 0;
  for (let z = 0; z < D; z++) for (let y = 0; y < H2; y++) {
    const src = (z * H + Math.min(y, H - 1)) * W, dst = (z * H2 + y) * W2;
    for (let x = 0; x < W2; x++) out[dst + x] = Math.round((volume.data[src + Math.min(x, W - 1)]! - lo) * k);
  }
  return new Uint8Array(out.buffer);
}
