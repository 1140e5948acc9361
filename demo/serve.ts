/**
 * `npm run demo`: build the viewer if needed, make (first run) or reuse the demo data (the
 * original as zarr, its `.vmg` and its Gaussian store), and serve them on 127.0.0.1. Options: --port N (default 8411), --volume trailmap|rivuletpy|diadem (default
 * trailmap, see demo/volumes.ts), --bpp B (default: the volume's), --iterations K, --dev
 * (development build, faster).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { readVmg } from "../src/format/vmg.js";
import { ensureViewerBuild, ROOT } from "./build.js";
import { makeDemoData, makeDemoStore } from "./make-data.js";
import { startStaticServer } from "./server.js";
import { demoState, demoUrl } from "./state.js";
import { DEFAULT_DEMO_VOLUME, DEMO_VOLUMES } from "./volumes.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8411" },
    bpp: { type: "string" },
    iterations: { type: "string" },
    volume: { type: "string", default: DEFAULT_DEMO_VOLUME },
    dev: { type: "boolean", default: false },
  },
});

const log = (s: string) => console.log(`demo: ${s}`);
const shared = resolve(ROOT, "../shared/data");
const demo = DEMO_VOLUMES[values.volume!];
if (!demo) {
  console.error(`demo: unknown --volume ${values.volume} (choose ${Object.keys(DEMO_VOLUMES).join(", ")})`);
  process.exit(2);
}
const file = demo.file;
const source = join(shared, file);
if (!existsSync(source)) {
  console.log(`demo: skipped: the demo shows a real volume from ../shared/data (${file}), which is not on this machine.`);
  process.exit(0);
}

const t0 = performance.now();
const build = await ensureViewerBuild(values.dev ? "development" : "production", join(ROOT, "dist"), log);
if (build.built) log(`viewer built in ${build.seconds.toFixed(1)} s`);
const data = await makeDemoData(source, join(ROOT, "demo/data"), {
  name: demo.name, bpp: values.bpp === undefined ? demo.bpp : Number(values.bpp),
  iterations: values.iterations === undefined ? demo.iterations : Number(values.iterations),
  ...(demo.crop ? { crop: demo.crop } : {}), log,
});
const store = await makeDemoStore(data, { bpp: values.bpp === undefined ? demo.bpp : Number(values.bpp), chunk: demo.storeChunk, log });
const server = await startStaticServer({ "/": join(ROOT, "dist"), "/data": data.dir }, Number(values.port));
const h = readVmg(new Uint8Array(readFileSync(data.vmg))).header;
const state = demoState({
  zarrUrl: `${server.url}data/${data.name}.zarr/`, vmgUrl: `data/${data.name}.vmg`,
  storeUrl: `${server.url}data/${data.name}.ome.zarr/`,
  shape: data.shape, voxelSize: data.voxelSize, unit: data.unit,
  dtype: h.dtype, valueOffset: h.valueOffset, valueScale: h.valueScale, z: data.bestZ,
});
log(`${data.name}: .vmg ${data.vmgBytes} bytes and a store of ${store.bytes} bytes beside the original as zarr (ready in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
console.log(`\n  ${demoUrl(server.url, state)}\n`);
log("serving on 127.0.0.1; Ctrl-C stops");
