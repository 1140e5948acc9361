/**
 * ZFP with its command-line tool (`zfp -h` writes its own small header into the stream, counted).
 *  - fixed rate: values mapped onto signed 30-bit integers (int32 input, the range stored), since
 *    float fixed rate cannot go below about 0.14 bpp (one exponent per 4³ block); rate by bisection.
 *  - fixed accuracy: float32 values, absolute tolerance by bisection (log scale).
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Codec } from "./codec.js";
import { bytesOf, hasCommand, limitNote, packStream, run, scratchDir, searchKnob, seconds, toDType, unpackStream, valueRange } from "./codec.js";

const SPAN = 2 ** 31 - 2; // [-2^30, 2^30 - 2]: zfp's integer path wants at most 30 bits of magnitude

export function zfpCodec(mode: "rate" | "accuracy"): Codec {
  const fixedRate = mode === "rate";
  return {
    name: fixedRate ? "zfp-rate" : "zfp-accuracy",
    label: fixedRate ? "ZFP fixed rate (int32)" : "ZFP fixed accuracy (float32)",
    aptPackages: ["zfp"],
    async available() { return hasCommand("zfp") ? true : "zfp command not found (Debian zfp)"; },
    async encode(volume, targetBytes) {
      const [D, H, W] = volume.shape;
      const [lo, hi] = valueRange(volume.data);
      const s = scratchDir("zfp");
      try {
        const n = volume.data.length;
        let input: Uint8Array;
        if (fixedRate) {
          const q = new Int32Array(n);
          const k = hi > lo ? SPAN / (hi - lo) : 0;
          for (let i = 0; i < n; i++) q[i] = Math.round((volume.data[i]! - lo) * k) - 2 ** 30;
          input = bytesOf(q);
        } else {
          input = bytesOf(Float32Array.from(volume.data));
        }
        writeFileSync(s.path("in.raw"), input);
        const side = fixedRate ? [lo, hi] : [];
        const t0 = performance.now();
        const range = Math.max(1, hi - lo);
        const found = await searchKnob({
          ...(fixedRate ? { lo: 1 / 64, hi: 32, rising: true } : { lo: range * 1e-7, hi: range * 1e4 }),
          steps: 14, log: true, target: targetBytes,
          encode: async (knob) => {
            const t1 = performance.now();
            await run("zfp", ["-q", "-h", "-t", fixedRate ? "i32" : "f32", "-3", String(W), String(H), String(D),
              ...(fixedRate ? ["-r", knob.toPrecision(6)] : ["-a", knob.toPrecision(6)]), "-i", s.path("in.raw"), "-z", s.path("o.zfp")]);
            const secs = seconds(t1);
            const stream = packStream(volume.dtype, volume.shape, side, new Uint8Array(readFileSync(s.path("o.zfp"))));
            return { stream, bytes: stream.length, seconds: secs };
          },
        });
        if (!found) return null;
        return { ...found.best, knob: fixedRate ? `rate=${found.knob.toPrecision(4)}` : `tolerance=${found.knob.toPrecision(4)}`, searchSeconds: seconds(t0), ...limitNote(found, targetBytes, fixedRate ? "rate 32" : "the smallest tolerance") };
      } finally {
        s.done();
      }
    },
    async decode(stream) {
      const { dtype, side, payload } = unpackStream(stream);
      const s = scratchDir("zfpd");
      try {
        const t0 = performance.now();
        writeFileSync(s.path("o.zfp"), payload);
        await run("zfp", ["-q", "-h", "-z", s.path("o.zfp"), "-o", s.path("d.raw")]);
        const raw = readFileSync(s.path("d.raw"));
        let data;
        if (fixedRate) {
          const [lo, hi] = side as [number, number];
          const q = new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
          const k = (hi - lo) / SPAN;
          const v = new Float64Array(q.length);
          for (let i = 0; i < q.length; i++) v[i] = lo + (q[i]! + 2 ** 30) * k;
          data = toDType(dtype, v);
        } else {
          data = toDType(dtype, new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4));
        }
        return { data, seconds: seconds(t0) };
      } finally {
        s.done();
      }
    },
  };
}
