/**
 * COIN: a SIREN coordinate network whose parameter count is set by the byte budget (float16
 * weights), trained for a fixed, reported number of Adam steps and decoded by evaluating the network
 * at every voxel. Trainer and decoder are `coin_siren.py` on Debian's python3 + python3-numpy
 * (OpenBLAS), installed by `bench:rd` when missing. The stream: side information (dtype, shape, value
 * range), width and depth (3 bytes), then the float16 weights.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Codec } from "./codec.js";
import { aptInstall, packStream, run, scratchDir, seconds, sideBytes, toDType, unpackStream, valueRange } from "./codec.js";

const PYTHON = "/usr/bin/python3"; // Debian's, where python3-numpy installs
const SCRIPT = fileURLToPath(new URL("./coin_siren.py", import.meta.url));
export const COIN_DEPTH = 5; // hidden-to-hidden layers (6 sine layers), as a 231 k-parameter COIN at 0.073 bpp of the paper's volume

export interface CoinOptions { steps?: number; batch?: number; lr?: number; seed?: number }

export function sirenParams(width: number, depth: number): number {
  return 3 * width + width + depth * (width * width + width) + width + 1;
}

/** Widest network whose stream fits in `targetBytes`. */
export function sirenWidth(targetBytes: number, depth = COIN_DEPTH): number {
  const room = targetBytes - sideBytes(2) - 3;
  let w = 0;
  while (2 * sirenParams(w + 1, depth) <= room) w++;
  return w;
}

function env(): NodeJS.ProcessEnv {
  return { ...process.env, OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? "2", PYTHONDONTWRITEBYTECODE: "1" };
}

export function coinCodec(o: CoinOptions = {}): Codec {
  const steps = o.steps ?? 600, batch = o.batch ?? 8192, lr = o.lr ?? 1e-3, seed = o.seed ?? 1;
  return {
    name: "coin",
    label: `COIN (SIREN, float16, ${steps} steps × ${batch} voxels)`,
    async available() {
      const r = spawnSync(PYTHON, ["-c", "import numpy"], { stdio: "ignore" });
      return r.status === 0 ? true : `${PYTHON} with numpy not found (Debian python3-numpy)`;
    },
    async install() { await aptInstall(["python3", "python3-numpy", "libopenblas0-pthread"]); },
    async encode(volume, targetBytes) {
      const [D, H, W] = volume.shape;
      const width = sirenWidth(targetBytes);
      if (width < 2) return null;
      const [lo, hi] = valueRange(volume.data);
      const k = hi > lo ? 2 / (hi - lo) : 0;
      const target = new Float32Array(volume.data.length);
      for (let i = 0; i < target.length; i++) target[i] = (volume.data[i]! - lo) * k - 1;
      const s = scratchDir("coin");
      try {
        writeFileSync(s.path("in.f32"), new Uint8Array(target.buffer));
        const t0 = performance.now();
        const out = await run(PYTHON, [SCRIPT, "train", s.path("in.f32"), String(D), String(H), String(W), String(width), String(COIN_DEPTH),
          String(steps), String(batch), String(lr), String(seed), s.path("w.f16")], { env: env() });
        const secs = seconds(t0);
        const info = JSON.parse(out.trim().split("\n").pop()!) as { seconds: number; params: number; loss_last: number };
        const weights = new Uint8Array(readFileSync(s.path("w.f16")));
        const arch = Uint8Array.of(width & 255, width >> 8, COIN_DEPTH);
        const payload = new Uint8Array(arch.length + weights.length);
        payload.set(arch); payload.set(weights, arch.length);
        const stream = packStream(volume.dtype, volume.shape, [lo, hi], payload);
        return {
          stream, bytes: stream.length, seconds: secs,
          knob: `width ${width}, ${COIN_DEPTH + 1} sine layers, ${info.params} params, ${steps} steps × ${batch} voxels, lr ${lr}, train MSE ${info.loss_last.toExponential(2)} (of [-1,1])`,
        };
      } finally {
        s.done();
      }
    },
    async decode(stream) {
      const { dtype, shape, side, payload } = unpackStream(stream);
      const [D, H, W] = shape;
      const [lo, hi] = side as [number, number];
      const width = payload[0]! | (payload[1]! << 8), depth = payload[2]!;
      const s = scratchDir("coind");
      try {
        writeFileSync(s.path("w.f16"), payload.subarray(3));
        const out = await run(PYTHON, [SCRIPT, "decode", s.path("w.f16"), String(D), String(H), String(W), String(width), String(depth), s.path("d.f32")], { env: env() });
        const info = JSON.parse(out.trim().split("\n").pop()!) as { seconds: number };
        const raw = readFileSync(s.path("d.f32"));
        const f = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
        const t0 = performance.now();
        const k = (hi - lo) / 2;
        const vals = new Float32Array(f.length);
        for (let i = 0; i < f.length; i++) vals[i] = lo + (f[i]! + 1) * k;
        const data = toDType(dtype, vals);
        // the forward pass over the full grid (timed inside Python) plus the mapping to the dtype
        return { data, seconds: info.seconds + seconds(t0) };
      } finally {
        s.done();
      }
    },
  };
}
