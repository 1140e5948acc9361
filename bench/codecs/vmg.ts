/**
 * `.vmg`: the project's own fitter at the byte budget (the file never exceeds it, no search needed),
 * decoded by DecodePool: worker threads on all cores, or the calling thread for small volumes.
 */
import { fitVolume } from "../../src/fit/fitter.js";
import { readVmg } from "../../src/format/vmg.js";
import { DecodePool } from "../../src/node/decode-pool.js";
import { WorkerEngine } from "../../src/node/fit-engine.js";
import type { Codec } from "./codec.js";
import { seconds } from "./codec.js";

export interface VmgOptions {
  /** Optimiser steps (the fitter's default when omitted). */
  iterations?: number;
  seed?: number;
  /** Progress on stderr every this many steps (0: quiet). */
  logEvery?: number;
}

export function vmgCodec(o: VmgOptions = {}): Codec {
  return {
    name: "vmg",
    label: "VolMicro .vmg (Gaussians)",
    async available() { return true; },
    async encode(volume, targetBytes) {
      const t0 = performance.now();
      const r = await fitVolume(volume, {
        budget: { bytes: targetBytes },
        ...(o.iterations !== undefined ? { iterations: o.iterations } : {}),
        seed: o.seed ?? 1,
        engine: (t) => WorkerEngine.create(t),
        onStep: (s) => {
          if (o.logEvery && (s.step % o.logEvery === 0)) process.stderr.write(`  vmg step ${s.step}: ${s.psnr.toFixed(2)} dB, ${s.gaussians} G, ${s.seconds.toFixed(0)} s\n`);
        },
      });
      const secs = seconds(t0);
      return {
        stream: r.bytes, bytes: r.bytes.length, seconds: secs,
        knob: `${r.file.count} Gaussians, ${r.log.length} steps, background ${r.background}`,
      };
    },
    async decode(stream) {
      readVmg(stream);
      const pool = await DecodePool.create(stream);
      try {
        await pool.decode(); // warm-up: workers prepare kernels and JIT the sampler
        const t0 = performance.now();
        const data = await pool.decode();
        return { data, seconds: seconds(t0) };
      } finally {
        await pool.close();
      }
    },
  };
}
