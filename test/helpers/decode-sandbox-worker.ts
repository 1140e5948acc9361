/**
 * Worker side of DecodeSandbox: reads each file it is sent and, when the reader accepts it, decodes
 * a bounded box at scale 0 and at a coarse scale, answering with what a user would see.
 */
import { parentPort } from "node:worker_threads";
import type { Box } from "../../src/core/background.js";
import { levelFactors, scaledShape, VmgDecoder } from "../../src/decode/decoder.js";
import { VmgFormatError } from "../../src/format/errors.js";
import { readVmg } from "../../src/format/vmg.js";
import type { SandboxRequest, SandboxResult } from "./decode-sandbox.js";

/** A box of up to `edge` voxels per axis, centred in a grid of `shape` ([z, y, x]). */
function centredBox(shape: readonly [number, number, number], edge: number): Box {
  const [z0, y0, x0] = shape.map((n) => Math.max(0, Math.floor(n / 2) - edge / 2));
  const [z1, y1, x1] = shape.map((n, a) => Math.min(n, [z0, y0, x0][a]! + edge));
  return { z0: z0!, z1: z1!, y0: y0!, y1: y1!, x0: x0!, x1: x1! };
}

function handle({ bytes, edge, coarseLevel }: SandboxRequest): SandboxResult {
  let file;
  try {
    file = readVmg(bytes);
  } catch (e) {
    if (e instanceof VmgFormatError) return { accepted: false, error: e.name, message: e.message, fields: { ...e } };
    return { accepted: false, untyped: String(e instanceof Error ? e.stack : e) };
  }
  try {
    const decoder = new VmgDecoder(file);
    let nonFinite = 0, voxels = 0;
    for (const level of [0, coarseLevel]) {
      const factors = levelFactors(level);
      const field = decoder.decodeField(centredBox(scaledShape(file.header.shape, factors), edge), factors);
      for (const v of field) if (!Number.isFinite(v)) nonFinite++;
      voxels += field.length;
    }
    return { accepted: true, count: file.count, voxels, nonFinite };
  } catch (e) {
    return { accepted: true, untyped: `decode: ${String(e instanceof Error ? e.stack : e)}` };
  }
}

parentPort!.on("message", (m: SandboxRequest & { id: number }) => {
  const start = performance.now();
  const result = handle(m);
  parentPort!.postMessage({ id: m.id, result: { ...result, ms: performance.now() - start } });
});
parentPort!.postMessage({ ready: true });
