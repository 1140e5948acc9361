import assert from "node:assert/strict";
import { test } from "node:test";
import { P_AMP, P_POS, P_ROT, P_SCALE, PARAMS_PER_GAUSSIAN } from "../src/core/constants.js";
import { quatToRotation } from "../src/core/gaussian.js";
import { fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { crc32 } from "../src/format/crc32.js";
import { VmgFormatError } from "../src/format/errors.js";
import { choosePackedSteps, quantizePacked } from "../src/format/packed.js";
import { HEADER_BYTES, readVmg, vmgLayout, writeVmg, type VmgFile } from "../src/format/vmg.js";
import { Random } from "../src/core/random.js";
import { randomFile } from "./helpers/files.js";

function packed(f: VmgFile): VmgFile {
  return { ...f, header: { ...f.header, encoding: "packed" } };
}

function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 4, crc32(bytes, 0, bytes.length - 4), true);
  return bytes;
}

/** Match each decoded Gaussian to its source (packed files are Morton-ordered) by position. */
function match(src: Float32Array, got: Float32Array, count: number): number[] {
  const used = new Set<number>();
  return Array.from({ length: count }, (_, i) => {
    let best = -1, bd = Infinity;
    for (let j = 0; j < count; j++) {
      if (used.has(j)) continue;
      let d = 0;
      for (let a = 0; a < 3; a++) d += (src[i * 11 + P_POS + a]! - got[j * 11 + P_POS + a]!) ** 2;
      d += (src[i * 11 + P_AMP]! - got[j * 11 + P_AMP]!) ** 2;
      if (d < bd) { bd = d; best = j; }
    }
    used.add(best);
    return best;
  });
}

test("packed round trip stays within the stated quantisation error", () => {
  const f = randomFile([40, 50, 60], 300, 21);
  const g = readVmg(writeVmg(packed(f)));
  assert.equal(g.header.encoding, "packed");
  assert.equal(g.count, 300);
  const s = g.packing!;
  const m = match(f.gaussians, g.gaussians, 300);
  for (let i = 0; i < 300; i++) {
    const a = i * PARAMS_PER_GAUSSIAN, b = m[i]! * PARAMS_PER_GAUSSIAN;
    for (let k = 0; k < 3; k++) {
      assert.ok(Math.abs(f.gaussians[a + P_POS + k]! - g.gaussians[b + P_POS + k]!) <= s.posStep[k]! * 0.5001, `position ${i}`);
      assert.ok(Math.abs(Math.log2(f.gaussians[a + P_SCALE + k]! / g.gaussians[b + P_SCALE + k]!)) <= s.scaleStep * 0.5001, `scale ${i}`);
    }
    assert.ok(Math.abs(Math.log2(Math.abs(f.gaussians[a + P_AMP]! / g.gaussians[b + P_AMP]!))) <= s.ampStep * 0.5001, `amplitude ${i}`);
    assert.equal(Math.sign(f.gaussians[a + P_AMP]!), Math.sign(g.gaussians[b + P_AMP]!));
    // rotation: the same rotation up to quantisation (each component within one step of 8 bits)
    const q0 = [0, 1, 2, 3].map((k) => f.gaussians[a + P_ROT + k]!), q1 = [0, 1, 2, 3].map((k) => g.gaussians[b + P_ROT + k]!);
    const R0 = quatToRotation(q0[0]!, q0[1]!, q0[2]!, q0[3]!), R1 = quatToRotation(q1[0]!, q1[1]!, q1[2]!, q1[3]!);
    const maxDiff = Math.max(...R0.map((v, t) => Math.abs(v - R1[t]!)));
    assert.ok(maxDiff < 0.02, `rotation ${i}: matrices differ by ${maxDiff}`);
  }
  // bytes per Gaussian well under the 22 of float16
  const layout = vmgLayout(writeVmg(packed(f)));
  assert.ok(layout.payloadBytes / 300 < 11, `${layout.payloadBytes / 300} bytes per Gaussian`);
  // reading and writing again reproduces the bytes
  const bytes = writeVmg(packed(f));
  assert.deepEqual(writeVmg(readVmg(bytes)), bytes);
});

test("packed decode equals the decode of the dequantised records", () => {
  const f = randomFile([30, 40, 50], 200, 5);
  const steps = choosePackedSteps(f.gaussians, f.count, f.header.shape);
  const dequantised = new Float32Array(f.gaussians.length);
  quantizePacked(f.gaussians, f.count, steps, dequantised);
  const fromFile = new VmgDecoder(readVmg(writeVmg({ ...packed(f), packing: steps }))).decodeField(fullBox(f.header.shape));
  const fromRecords = new VmgDecoder({ ...f, gaussians: dequantised }).decodeField(fullBox(f.header.shape));
  let err = 0;
  for (let i = 0; i < fromFile.length; i++) err = Math.max(err, Math.abs(fromFile[i]! - fromRecords[i]!));
  assert.ok(err < 1e-5, `max difference ${err} (summation order only)`);
});

test("hostile packed payloads are rejected with typed errors", () => {
  const good = writeVmg(packed(randomFile([20, 20, 20], 80, 9)));
  const payload = HEADER_BYTES + 4; // after one background parameter
  const payloadLen = new DataView(good.buffer).getUint32(112, true);
  const rejects = (b: Uint8Array, re: RegExp) => assert.throws(() => readVmg(reseal(b)), (e: unknown) => e instanceof VmgFormatError && re.test(e.message), String(re));
  // truncated stream: the header says fewer payload bytes, the sections move up
  {
    const cut = 30;
    const b = new Uint8Array(good.length - cut);
    b.set(good.subarray(0, payload + payloadLen - cut));
    b.set(good.subarray(payload + payloadLen), payload + payloadLen - cut);
    new DataView(b.buffer).setUint32(112, payloadLen - cut, true);
    rejects(b, /truncated|corrupt|degenerate|outside/);
  }
  const layout = good.slice(); layout[payload] = 7; rejects(layout, /layout 7/);
  const nanStep = good.slice(); new DataView(nanStep.buffer).setFloat32(payload + 1, NaN, true); rejects(nanStep, /quantisation step/);
  const bits = good.slice(); bits[payload + 1 + 12 + 12 + 1 + 8] = 40; rejects(bits, /field widths/);
  const huge = good.slice(); new DataView(huge.buffer).setUint32(104, 0x7fffffff, true); rejects(huge, /cannot fit/);
  // random corruption of the coded stream: a typed error or a valid file, never a crash or a hang
  const rng = new Random(4);
  for (let t = 0; t < 300; t++) {
    const b = good.slice();
    for (let k = 0; k < 3; k++) b[payload + 40 + rng.int(payloadLen - 40)] = rng.int(256);
    try { readVmg(reseal(b)); } catch (e) { assert.ok(e instanceof VmgFormatError, String(e)); }
  }
});

test("22-byte float16 files still open and convert to the packed encoding", () => {
  const f16 = writeVmg(randomFile([16, 16, 16], 40, 2));
  const f = readVmg(f16);
  assert.equal(f.header.encoding, "f16");
  const p = readVmg(writeVmg(packed(f)));
  assert.equal(p.count, 40);
  assert.ok(writeVmg(packed(f)).length < f16.length);
});
