/** Test worker: rebuilds each WireError it receives and sends it back re-serialised, with the class it rebuilt. */
import { parentPort } from "node:worker_threads";
import { fromWire, toWire, type WireError } from "../../src/core/errors.js";
import "../../src/cli/args.js";
import "../../src/decode/errors.js";
import "../../src/fit/errors.js";
import "../../src/format/errors.js";
import "../../src/io/errors.js";
import "../../src/node/vmg-file.js";
import "../../src/viewer/compress/errors.js";
import "../../src/viewer/url.js";

parentPort!.on("message", (w: WireError) => {
  const e = fromWire(w);
  parentPort!.postMessage({ className: e.constructor.name, wire: toWire(e) });
});
parentPort!.postMessage({ type: "ready", id: -1 });
