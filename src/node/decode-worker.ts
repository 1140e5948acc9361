/** Worker half of DecodePool: decodes z-slab tiles of a box into a shared output buffer. */
import { parentPort, workerData } from "node:worker_threads";
import { allocVoxels } from "../core/dtype.js";
import { VmgDecoder } from "../decode/decoder.js";
import { readVmg } from "../format/vmg.js";
import type { DecodeJob } from "./decode-pool.js";

const decoder = new VmgDecoder(readVmg(workerData.bytes as Uint8Array));
let scratch = new Float32Array(0);

parentPort!.on("message", (job: DecodeJob) => {
  const { box } = job;
  const plane = (box.y1 - box.y0) * (box.x1 - box.x0);
  const depth = box.z1 - box.z0;
  const out = allocVoxels(decoder.file.header.dtype, depth * plane, job.buffer);
  const control = new Int32Array(job.control);
  if (scratch.length < job.slab * plane) scratch = new Float32Array(job.slab * plane);
  for (;;) {
    if (Atomics.load(control, 1) !== 0) break; // cancelled
    const tile = Atomics.add(control, 0, 1);
    const z0 = tile * job.slab;
    if (z0 >= depth) break;
    const z1 = Math.min(depth, z0 + job.slab);
    const target = out.subarray(z0 * plane, z1 * plane);
    decoder.decode({ ...box, z0: box.z0 + z0, z1: box.z0 + z1 }, job.factors, target, scratch);
    parentPort!.postMessage({ type: "tile" });
  }
  parentPort!.postMessage({ type: "done" });
});
parentPort!.postMessage({ type: "ready" });
