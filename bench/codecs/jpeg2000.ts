/**
 * JPEG2000 with OpenJPEG's command-line tools: all Z planes as the components of one codestream
 * (so rate allocation is global), `-mct 0` (no colour transform), 9/7 irreversible wavelet, rate by
 * `-r` (a compression ratio against the declared precision), refined until the stream fits.
 *
 * The "3D" variant first applies an orthonormal DCT-II along Z to every (y, x) column — standing in
 * for JPEG2000 Part 2's inter-component transform, which `opj_compress` cannot set — and codes the
 * coefficients as signed 16-bit components with one global scale (stored), so that PCRD's squared
 * error in the coefficient domain is the voxel domain's.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { DTYPES, type VoxelArray } from "../../src/core/dtype.js";
import type { Volume } from "../../src/core/volume.js";
import type { Codec, Encoded } from "./codec.js";
import { bytesOf, hasCommand, packStream, run, scratchDir, seconds, sideBytes, toDType, unpackStream } from "./codec.js";

const PACKAGES = ["libopenjp2-tools"];

export function jpeg2000Codec(variant: "2d" | "3d-dct"): Codec {
  const dct = variant === "3d-dct";
  return {
    name: dct ? "jpeg2000-3d" : "jpeg2000",
    label: dct ? "JPEG2000 + DCT along Z (emulated Part 2)" : "JPEG2000 (Z planes as components)",
    aptPackages: PACKAGES,
    async available() { return hasCommand("opj_compress") && hasCommand("opj_decompress") ? true : "opj_compress not found (Debian libopenjp2-tools)"; },
    async encode(volume, targetBytes) {
      const [D, H, W] = volume.shape;
      const s = scratchDir("j2k");
      try {
        let values: ArrayLike<number>, minPrec: number, signed: boolean, side: number[];
        if (dct) {
          const { coef, scale, mean } = dctForward(volume);
          values = coef; minPrec = 16; signed = true; side = [scale, mean];
        } else {
          if (volume.dtype !== "uint8" && volume.dtype !== "uint16") throw new Error(`jpeg2000: ${volume.dtype} not handled`);
          let hi = 0;
          for (let i = 0; i < volume.data.length; i++) if (volume.data[i]! > hi) hi = volume.data[i]!;
          values = volume.data; minPrec = Math.max(8, Math.ceil(Math.log2(hi + 1))); signed = false; side = [];
        }
        const { W2, prec } = rawGeometry(W, H, D, minPrec);
        const planes = padded(values, volume.shape, W2, prec, signed);
        const input = s.path("in.rawl");
        writeFileSync(input, planes);
        const payloadTarget = targetBytes - sideBytes(side.length);
        if (payloadTarget < 200) return null;
        const rawBytes = (W2 * H * D * prec) / 8;
        const t0 = performance.now();
        let ratio = rawBytes / payloadTarget;
        let best: Encoded | null = null;
        let last = 0;
        for (let attempt = 0; attempt < 8; attempt++) {
          const out = s.path(`o${attempt}.j2k`);
          const t1 = performance.now();
          await run("opj_compress", ["-i", input, "-o", out, "-F", `${W2},${H},${D},${prec},${signed ? "s" : "u"}`, "-mct", "0", "-I", "-r", ratio.toFixed(6), "-threads", "2"]);
          const secs = seconds(t1);
          const payload = new Uint8Array(readFileSync(out));
          const stream = packStream(volume.dtype, volume.shape, side, payload);
          last = stream.length;
          if (stream.length <= targetBytes) {
            best = { stream, bytes: stream.length, seconds: secs, knob: `-r ${ratio.toFixed(3)}` };
            if (stream.length >= 0.995 * targetBytes) break;
            ratio *= Math.max(0.98, stream.length / targetBytes); // a little under: spend more
          } else {
            ratio *= (stream.length / targetBytes) * 1.0005;
          }
        }
        if (best) best.searchSeconds = seconds(t0);
        if (!best && last > 0) return null;
        return best;
      } finally {
        s.done();
      }
    },
    async decode(stream) {
      const { dtype, shape, side, payload } = unpackStream(stream);
      const s = scratchDir("j2kd");
      try {
        const t0 = performance.now();
        writeFileSync(s.path("o.j2k"), payload);
        await run("opj_decompress", ["-i", s.path("o.j2k"), "-o", s.path("d.rawl"), "-threads", "2"]);
        const raw = readFileSync(s.path("d.rawl"));
        const [D, H, W] = shape;
        const W2 = raw.byteLength / (D * H) > W * 1.5 || dct ? raw.byteLength / (2 * D * H) : raw.byteLength / (D * H);
        const wide = raw.byteLength / (D * H * W2) === 2 ? (dct ? new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2) : new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2)) : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
        const cropped = new Float64Array(D * H * W);
        for (let r = 0; r < D * H; r++) for (let x = 0; x < W; x++) cropped[r * W + x] = wide[r * W2 + x]!;
        const data: VoxelArray = dct ? dctInverse(cropped, shape, side[0]!, side[1]!, dtype) : toDType(dtype, cropped);
        return { data, seconds: seconds(t0) };
      } finally {
        s.done();
      }
    },
  };
}

/**
 * opj_compress rejects raw parameters whose width, height, component count and bit depth share a
 * set bit (its check ANDs them together), e.g. 627,1116,26,16. Declare a larger precision, or
 * failing that pad the width (edge replicated, cropped after decoding; the padding costs bytes).
 */
export function rawGeometry(W: number, H: number, D: number, minPrec: number): { W2: number; prec: number } {
  for (let prec = minPrec; prec <= 16; prec++) if ((W & H & D & prec) === 0) return { W2: W, prec };
  let W2 = W;
  while ((W2 & H & D & minPrec) !== 0) W2++;
  return { W2, prec: minPrec };
}

function padded(values: ArrayLike<number>, shape: readonly [number, number, number], W2: number, prec: number, signed: boolean): Uint8Array {
  const [D, H, W] = shape;
  const out = prec > 8 ? (signed ? new Int16Array(D * H * W2) : new Uint16Array(D * H * W2)) : (signed ? new Int8Array(D * H * W2) : new Uint8Array(D * H * W2));
  for (let r = 0; r < D * H; r++) for (let x = 0; x < W2; x++) out[r * W2 + x] = values[r * W + Math.min(x, W - 1)]!;
  return bytesOf(out);
}

/** Orthonormal DCT-II matrix, C[k * n + z]. */
function dctMatrix(n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const a = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
    for (let z = 0; z < n; z++) c[k * n + z] = a * Math.cos((Math.PI * (2 * z + 1) * k) / (2 * n));
  }
  return c;
}

function dctForward(volume: Volume): { coef: Int16Array; scale: number; mean: number } {
  const [D, H, W] = volume.shape;
  const P = H * W, x = volume.data;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]!;
  const mean = Math.round(sum / x.length);
  const C = dctMatrix(D);
  const f = new Float32Array(D * P);
  for (let k = 0; k < D; k++) {
    const acc = f.subarray(k * P, (k + 1) * P);
    for (let z = 0; z < D; z++) {
      const c = C[k * D + z]!;
      if (c === 0) continue;
      const o = z * P;
      for (let p = 0; p < P; p++) acc[p] = acc[p]! + c * (x[o + p]! - mean);
    }
  }
  let maxAbs = 0;
  for (let i = 0; i < f.length; i++) { const a = Math.abs(f[i]!); if (a > maxAbs) maxAbs = a; }
  const scale = maxAbs > 0 ? 32767 / maxAbs : 1;
  const coef = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) coef[i] = Math.round(f[i]! * scale);
  return { coef, scale, mean };
}

function dctInverse(coef: ArrayLike<number>, shape: readonly [number, number, number], scale: number, mean: number, dtype: Volume["dtype"]): VoxelArray {
  const [D, H, W] = shape;
  const P = H * W;
  const C = dctMatrix(D);
  const out = new Float32Array(D * P).fill(mean);
  const inv = 1 / scale;
  for (let k = 0; k < D; k++) {
    const o = k * P;
    for (let z = 0; z < D; z++) {
      const c = C[k * D + z]! * inv;
      const dst = out.subarray(z * P, (z + 1) * P);
      for (let p = 0; p < P; p++) dst[p] = dst[p]! + c * coef[o + p]!;
    }
  }
  return toDType(dtype, out);
}
