/**
 * Worker half of DecodePool: decodes z-slab tiles of a box into a shared output buffer. Jobs are
 * handled one at a time in arrival order; every reply carries its job's id, errors as WireErrors.
 */
import { parentPort, workerData } from "node:worker_threads";
import { toWire } from "../core/errors.js";
import { allocVoxels } from "../core/dtype.js";
import { VmgDecoder } from "../decode/decoder.js";
import type { VmgFile } from "../format/vmg.js";
import "./wasm-kernel.js"; // the WebAssembly kernel for this worker thread
import { decodeNextTile, type DecodeJob, type DecodeReply } from "./decode-pool.js";

const decoder = new VmgDecoder(workerData.file as VmgFile); // parsed and checked by the pool
let scratch = new Float32Array(0);
const reply = (m: DecodeReply) => parentPort!.postMessage(m);

function run(job: DecodeJob): void {
  const { box } = job;
  const plane = (box.y1 - box.y0) * (box.x1 - box.x0);
  const out = allocVoxels(decoder.file.header.dtype, (box.z1 - box.z0) * plane, job.buffer);
  if (scratch.length < job.slab * plane) scratch = new Float32Array(job.slab * plane);
  for (let z0; (z0 = decodeNextTile(decoder, job, out, scratch)) >= 0;) reply({ type: "tile", id: job.id, z0 });
}

parentPort!.on("message", (job: DecodeJob) => {
  try {
    run(job);
    reply({ type: "done", id: job.id });
  } catch (e) {
    reply({ type: "error", id: job.id, error: toWire(e) });
  }
});
reply({ type: "ready", id: -1 });
