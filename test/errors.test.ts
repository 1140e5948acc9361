/** The one error model: tags, fields, the type guard, and errors crossing worker boundaries intact. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { fromWire, isVmgError, isWireError, toWire, VmgError, type WireError } from "../src/core/errors.js";
import { UsageError } from "../src/cli/args.js";
import { ChunkRangeError } from "../src/decode/errors.js";
import { FitCancelledError, FitInputError } from "../src/fit/errors.js";
import {
  BadMagicError, ChecksumMismatchError, CountMismatchError, InvalidHeaderError, InvalidParameterError, TruncatedFileError,
  UnsupportedEncodingError, UnsupportedVersionError, VmgFormatError,
} from "../src/format/errors.js";
import {
  MissingChunkError, NotAVolumeError, UnsupportedDTypeError, UnsupportedFormatError, VolumeFetchError, VolumeReadError, VolumeWriteError,
} from "../src/io/errors.js";
import { readVmg } from "../src/format/vmg.js";
import { InputError } from "../src/node/vmg-file.js";
import { NoWebGpuError, OutOfMemoryError, RegionTooLargeError } from "../src/viewer/compress/errors.js";
import { VmgUrlError } from "../src/viewer/url.js";

/** One instance of every error class, as the code that throws it builds it. */
const samples: VmgError[] = [
  new VmgFormatError("bad", "f.vmg"),
  new TruncatedFileError("file is 3 bytes, the header needs 64", "f.vmg"),
  new BadMagicError("not a .vmg file (magic 00000000)", "f.vmg"),
  new UnsupportedVersionError("format version 9", "f.vmg"),
  new ChecksumMismatchError("CRC-32 mismatch", "f.vmg"),
  new CountMismatchError("count 3 but payload holds 2"),
  new InvalidHeaderError("shape [0, 1, 1]", "f.vmg"),
  new InvalidParameterError("Gaussian 4 has a NaN scale"),
  new UnsupportedEncodingError("encoding 7", "f.vmg"),
  new VolumeReadError("a.tif", "no such file or directory", { cause: new Error("ENOENT") }),
  new UnsupportedDTypeError("a.zarr", "float64", "readable: uint8/16/32"),
  new NotAVolumeError("a.zarr", "empty array (shape 0x4x4)"),
  new MissingChunkError("a.zarr", "0/c/1/2/3"),
  new UnsupportedFormatError("a.tif", "RGB TIFF"),
  new VolumeFetchError("http://h/a.zarr", "HTTP 403 Forbidden", { status: 403 }),
  new VolumeFetchError("http://h/a.zarr", "cannot fetch (ECONNREFUSED)", { cause: new TypeError("fetch failed") }),
  new VolumeWriteError("out.tif", "cannot write file"),
  new ChunkRangeError("box z range 0:9 is outside 0:8 at scale factors 1x1x1"),
  new FitInputError("a.tif", "is constant"),
  new FitCancelledError(),
  new UsageError("unknown option --frob"),
  new InputError("http://h/x.vmg", "HTTP 404 Not Found", { status: 404 }),
  new VmgUrlError("empty vmg:// URL"),
  new RegionTooLargeError(1e9, 2),
  new OutOfMemoryError("reading the region", new RangeError("Array buffer allocation failed")),
  new NoWebGpuError(),
];

function assertSame(back: Error, e: VmgError): void {
  assert.equal(back.constructor, e.constructor, `${e.name} rebuilt as ${back.constructor.name}`);
  assert.ok(back instanceof VmgError && isVmgError(back, e.tag));
  assert.equal(back.name, e.name);
  assert.equal(back.message, e.message);
  assert.equal(back.tag, e.tag);
  assert.deepEqual(back.fields(), e.fields());
  assert.equal(back.stack, e.stack);
  if (e.cause instanceof Error) assert.equal((back.cause as Error).message, e.cause.message);
}

test("every error class has its own stable tag and keeps its name", () => {
  const tags = new Set(samples.map((e) => `${e.constructor.name} ${e.tag}`));
  assert.equal(new Set(samples.map((e) => e.tag)).size, tags.size, "one tag per class");
  for (const e of samples) assert.equal(e.name, e.constructor.name);
  assert.equal(new TruncatedFileError("x").tag, "format/truncated");
  assert.equal(new UnsupportedDTypeError("s", "bool").tag, "io/unsupported-dtype");
});

test("isVmgError matches a kind and its subclasses, and nothing else", () => {
  const dtype = new UnsupportedDTypeError("a.zarr", "float64");
  assert.deepEqual(dtype.fields(), { source: "a.zarr", problem: "unsupported voxel type float64", dtype: "float64" });
  assert.ok(isVmgError(dtype) && isVmgError(dtype, "io/unsupported-dtype") && isVmgError(dtype, "io/read"));
  assert.ok(!isVmgError(dtype, "io/missing-chunk") && !isVmgError(dtype, "format"));
  assert.ok(isVmgError(new ChecksumMismatchError("x"), "format"));
  assert.ok(!isVmgError(new Error("x")) && !isVmgError(new RangeError("x"), "decode/chunk-range"));
  assert.equal(new VolumeFetchError("u", "HTTP 500", { status: 500 }).fields()["status"], 500);
});

test("each class survives toWire, structured clone and fromWire with its tag and fields", () => {
  for (const e of samples) {
    const wire = structuredClone(toWire(e));
    assert.ok(isWireError(wire));
    assertSame(fromWire(wire), e);
  }
});

test("a thrown file error keeps its class through the wire", () => {
  let thrown: unknown;
  try { readVmg(new Uint8Array(10), { file: "tiny.vmg" }); } catch (e) { thrown = e; }
  assert.ok(thrown instanceof VmgFormatError);
  const back = fromWire(structuredClone(toWire(thrown)));
  assert.ok(back instanceof (thrown.constructor as typeof VmgFormatError));
  assert.equal(back.message, thrown.message);
  assert.equal((back as VmgFormatError).file, "tiny.vmg");
});

test("non-VmgErrors cross as their own kind: AbortError, TypeError, a thrown string", () => {
  const abort = fromWire(structuredClone(toWire(AbortSignal.abort().reason)));
  assert.equal(abort.name, "AbortError");
  assert.ok(abort instanceof DOMException);
  const type = fromWire(structuredClone(toWire(new TypeError("fetch failed"))));
  assert.ok(type instanceof TypeError && type.message === "fetch failed" && !isVmgError(type));
  assert.equal(fromWire(toWire("plain")).message, "plain");
  const unknown = fromWire({ vmgWire: 1, tag: "format/some-future-kind", name: "FutureError", message: "m", fields: { file: "f" } });
  assert.ok(isVmgError(unknown, "format") && unknown.name === "FutureError" && (unknown as VmgError & { file: string }).file === "f");
});

test("each class crosses a real worker thread and back as itself", async () => {
  const w = new Worker(new URL("../src/node/worker-boot.mjs", import.meta.url), {
    workerData: { entry: new URL("./helpers/wire-echo-worker.ts", import.meta.url).href },
  });
  try {
    type Answer = { className?: string; wire?: WireError; type?: string };
    const next = async () => ((await once(w, "message")) as [Answer])[0];
    assert.equal((await next()).type, "ready");
    for (const e of samples) {
      const answer = next();
      w.postMessage(toWire(e));
      const { className, wire } = await answer;
      assert.equal(className, e.constructor.name, "the worker rebuilt the same class");
      assertSame(fromWire(wire!), e);
    }
  } finally {
    await w.terminate();
  }
});
