/** Worker half of DecodePool: decodes z-slab tiles of the volume into a shared output buffer. */
import { parentPort, workerData } from "node:worker_threads";
import { allocVoxels } from "../core/dtype.js";
import { scaledShape, VmgDecoder } from "../decode/decoder.js";
import { readVmg } from "../format/vmg.js";
import type { DecodeJob } from "./decode-pool.js";

const decoder = new VmgDecoder(readVmg(workerData.bytes as Uint8Array));
let scratch = new Float32Array(0);

parentPort!.on("message", (job: DecodeJob) => {
  const [nz, ny, nx] = scaledShape(decoder.shape, job.factors);
  const out = allocVoxels(decoder.file.header.dtype, nz * ny * nx, job.buffer);
  const control = new Int32Array(job.control);
  const plane = ny * nx;
  if (scratch.length < job.slab * plane) scratch = new Float32Array(job.slab * plane);
  for (;;) {
    if (Atomics.load(control, 1) !== 0) break; // cancelled
    const tile = Atomics.add(control, 0, 1);
    const z0 = tile * job.slab;
    if (z0 >= nz) break;
    const z1 = Math.min(nz, z0 + job.slab);
    const values = decoder.decode({ z0, z1, y0: 0, y1: ny, x0: 0, x1: nx }, job.factors, undefined, scratch);
    out.set(values, z0 * plane);
    parentPort!.postMessage({ type: "tile" });
  }
  parentPort!.postMessage({ type: "done" });
});
parentPort!.postMessage({ type: "ready" });
