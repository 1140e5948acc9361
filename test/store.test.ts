/**
 * The chunked Gaussian store (docs/vmg-zarr-codec.md): the chunk codec's round trip and its
 * refusal of hostile bytes, and a store written by the writer read back through zarrita, chunk by
 * chunk and whole, and by the `vmg` command.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { constantBackground, type BackgroundModel } from "../src/core/background.js";
import { roundToHalf } from "../src/core/float16.js";
import { P_POS, P_SCALE, PARAMS_PER_GAUSSIAN } from "../src/core/constants.js";
import type { Shape3 } from "../src/core/gaussian.js";
import type { Volume } from "../src/core/volume.js";
import { fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { encodingByName } from "../src/format/encodings.js";
import {
  CodecConfigurationError, CountBoundError, CountMismatchError, InvalidHeaderError, ParameterBoundError,
  UnencodableError, UnsupportedVersionError, VmgFormatError,
} from "../src/format/errors.js";
import { choosePackedSteps } from "../src/format/packed.js";
import { gaussianStoreInfo, readGaussianStore } from "../src/node/store-reader.js";
import { VolumeReadError } from "../src/io/errors.js";
import { isVmgError } from "../src/core/errors.js";
import { writeGaussianStore } from "../src/node/store-writer.js";
import { chunkAsFile, chunkOverheadBytes, decodeChunk, encodeChunk, halfGrid, readChunk } from "../src/store/codec/chunk.js";
import { chunkDType, chunkShape3, configToJson, GAUSSIAN_CODEC_NAME, GAUSSIAN_CODEC_VERSION, parseConfig, type GaussianCodecConfig } from "../src/store/codec/config.js";
import { writeVarint } from "../src/store/codec/varint.js";
import { rebaseBackground } from "../src/store/rebase.js";
import { buildShard, shardChunks } from "../src/store/shard.js";
import { openVolume, openZarrSource } from "../src/node/open-volume.js";
import { vmg } from "./helpers/cli.js";
import { randomFile } from "./helpers/files.js";
import { Random } from "../src/core/random.js";
import { registry } from "zarrita";
import { registerGaussianCodec } from "../src/store/codec/zarrita-codec.js";
import { existsSync } from "node:fs";

const CONFIG: GaussianCodecConfig = { version: GAUSSIAN_CODEC_VERSION, encoding: "packed", truncation: 3, valueOffset: 10, valueScale: 1000 };
const CHUNK: Shape3 = [12, 16, 20];

function content(count: number, seed = 3, background: BackgroundModel = { kind: "polynomial", degree: 1, params: Float64Array.of(0.1, 0.02, -0.03, 0.01).map(Math.fround) }) {
  const f = randomFile(CHUNK, count, seed);
  return { background, gaussians: f.gaussians, count };
}

describe("volmicro.gaussians chunk codec", () => {
  test("round trip: the chunk's parameters are the payload's, its values the CPU decoder's of the same file", () => {
    for (const encoding of ["packed", "f16"] as const) {
      const config = { ...CONFIG, encoding };
      const c = content(40);
      const bytes = encodeChunk(c, CHUNK, config);
      const back = readChunk(bytes, CHUNK, config);
      assert.equal(back.count, 40);
      const enc = encodingByName(encoding);
      assert.deepEqual(back.gaussians, enc.decode(enc.encode({ gaussians: c.gaussians, count: 40, shape: CHUNK }), 40).gaussians);
      assert.deepEqual(back.background.params, c.background.params);
      const values = decodeChunk(bytes, CHUNK, "uint16", config);
      assert.equal(values.length, CHUNK[0] * CHUNK[1] * CHUNK[2]);
      assert.deepEqual(values, new VmgDecoder(chunkAsFile(back, CHUNK, "uint16", config)).decode(fullBox(CHUNK)));
      assert.ok(values.some((v) => v > 200), "the Gaussians show in the decoded values");
    }
  });

  test("a packed chunk states its quantisation table in about 21 bytes, not the file's 45, and decodes the same Gaussians", () => {
    const c = content(40);
    const bytes = encodeChunk(c, CHUNK, CONFIG);
    const filePayload = encodingByName("packed").encode({ gaussians: c.gaussians, count: 40, shape: CHUNK });
    const head = 3 + 4 * 4 + 1; // version, kind, degree, 4 parameters, count
    assert.ok(bytes.length - head <= filePayload.length - 45 + 24, `${bytes.length - head} payload bytes against the file's ${filePayload.length}`);
    assert.ok(bytes.length - head >= filePayload.length - 45 + 18);
    assert.deepEqual(readChunk(bytes, CHUNK, CONFIG).gaussians, encodingByName("packed").decode(filePayload, 40).gaussians);
  });

  test("steps a chunk's table cannot state are the writer's UnencodableError, not a reader's header error", () => {
    const c = content(30);
    const steps = choosePackedSteps(c.gaussians, c.count, CHUNK);
    assert.ok(encodeChunk({ ...c, packing: steps }, CHUNK, CONFIG).length > 0, "the chosen steps are stated");
    assert.throws(() => encodeChunk({ ...c, packing: { ...steps, scaleStep: 0.3 } }, CHUNK, CONFIG), (e: unknown) => {
      assert.ok(e instanceof UnencodableError && !(e instanceof VmgFormatError), String(e));
      assert.equal((e as UnencodableError).tag, "format/unencodable");
      assert.match((e as Error).message, /packed steps are not powers of two .*: a chunk cannot state them/);
      return true;
    });
  });

  test("an all-background chunk costs 7 bytes and decodes to its constant", () => {
    const bytes = encodeChunk({ background: constantBackground(Math.fround(0.25)), gaussians: new Float32Array(0), count: 0 }, CHUNK, CONFIG);
    assert.equal(bytes.length, 7);
    const v = decodeChunk(bytes, CHUNK, "uint16", CONFIG);
    assert.ok(v.every((x) => x === 260)); // ⌊10.5 + 1000 · 0.25⌋
  });

  test("a grid background of float16 nodes is stored in 2 bytes a node (kind 3) and decodes to exactly those nodes; other grids keep float32", () => {
    const nodes = Float64Array.from({ length: 27 }, (_, i) => 0.1 + 0.01 * i);
    const half = halfGrid(nodes, 3);
    const bytes = encodeChunk({ ...content(10), background: half }, CHUNK, CONFIG);
    assert.equal(bytes[1], 3);
    assert.equal(chunkOverheadBytes(half, 10), 2 + 3 + 2 * 27 + 1);
    const back = readChunk(bytes, CHUNK, CONFIG).background;
    assert.deepEqual(back, half);
    assert.ok(half.params.some((p, i) => p !== nodes[i]), "the nodes were rounded to float16");
    const wide: BackgroundModel = { kind: "grid", dims: [3, 3, 3], params: nodes };
    const f32 = encodeChunk({ ...content(10), background: wide }, CHUNK, CONFIG);
    assert.equal(f32[1], 2);
    assert.equal(f32.length - bytes.length, 2 * 27);
    // the decoder sees the grid as a .vmg of it would
    assert.deepEqual(decodeChunk(bytes, CHUNK, "uint16", CONFIG), new VmgDecoder(chunkAsFile(readChunk(bytes, CHUNK, CONFIG), CHUNK, "uint16", CONFIG)).decode(fullBox(CHUNK)));
    // an infinite or NaN node, a node count past the bytes, is refused
    const at = 2 + 3; // version, kind, three dims
    const inf = bytes.slice(); inf[at] = 0x00; inf[at + 1] = 0x7c;
    assert.throws(() => readChunk(inf, CHUNK, CONFIG), (e: unknown) => e instanceof VmgFormatError && /background parameter 0 is Infinity/.test((e as Error).message));
    const big = bytes.slice(); big[2] = 200;
    assert.throws(() => readChunk(big, CHUNK, CONFIG), VmgFormatError);
  });

  test("a polynomial of float16 coefficients is stored in 2 bytes a coefficient (kind 4, version 4) and decodes as the .vmg of it; a version 3 chunk reads as version 4's", () => {
    const params = Float64Array.of(0.1, 0.02, -0.03, 0.01).map(roundToHalf);
    const half: BackgroundModel = { kind: "polynomial", degree: 1, params };
    const c = { ...content(12), background: half };
    const bytes = encodeChunk(c, CHUNK, CONFIG);
    assert.equal(bytes[1], 4);
    const f32 = encodeChunk(content(12), CHUNK, CONFIG); // the same Gaussians over float32 coefficients (not float16 numbers)
    assert.equal(f32[1], 1);
    assert.equal(f32.length - bytes.length, 2 * 4);
    assert.equal(chunkOverheadBytes(half, 12), 3 + 2 * 4 + 1);
    assert.deepEqual(readChunk(bytes, CHUNK, CONFIG).background, half);
    assert.deepEqual(decodeChunk(bytes, CHUNK, "uint16", CONFIG), new VmgDecoder(chunkAsFile(readChunk(bytes, CHUNK, CONFIG), CHUNK, "uint16", CONFIG)).decode(fullBox(CHUNK)));
    // kind 4 is refused in a version 3 array; a version 3 chunk (kind 1) is version 4's of the same bytes
    const v3 = { ...CONFIG, version: 3 };
    const old4 = bytes.slice(); old4[0] = 3;
    assert.throws(() => readChunk(old4, CHUNK, v3), (e: unknown) => e instanceof InvalidHeaderError && /background kind 4 \(float16 polynomial\) is not one of codec version 3's/.test(e.message));
    const old1 = f32.slice(); old1[0] = 3;
    assert.deepEqual(decodeChunk(old1, CHUNK, "uint16", v3), decodeChunk(f32, CHUNK, "uint16", CONFIG));
    // an infinite coefficient is refused
    const inf = bytes.slice(); inf[3] = 0x00; inf[4] = 0x7c;
    assert.throws(() => readChunk(inf, CHUNK, CONFIG), (e: unknown) => e instanceof VmgFormatError && /background parameter 0 is Infinity/.test((e as Error).message));
  });

  test("a polynomial background moved into a chunk's frame gives the same field there", () => {
    const bg: BackgroundModel = { kind: "polynomial", degree: 2, params: Float64Array.from({ length: 10 }, (_, i) => 0.1 * (i + 1) * (i % 2 ? -1 : 1)) };
    const block: Shape3 = [20, 24, 28], chunk: Shape3 = [16, 16, 16], offset: Shape3 = [4, 0, 8];
    const moved = rebaseBackground(bg, { block, chunk, offset }, { gain: 2, shift: 0.5 });
    const fileOf = (shape: Shape3, b: BackgroundModel) => new VmgDecoder({ ...randomFile(shape, 0), background: b });
    const whole = fileOf(block, bg).decodeField(fullBox(block));
    const part = fileOf(chunk, moved).decodeField({ z0: 0, z1: 16, y0: 0, y1: 16, x0: 0, x1: 16 });
    for (let z = 0; z < 16; z++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      const zb = z + 4, xb = x + 8;
      if (zb >= 20 || xb >= 28) continue;
      const want = 0.5 + 2 * whole[(zb * 24 + y) * 28 + xb]!;
      assert.ok(Math.abs(part[(z * 16 + y) * 16 + x]! - want) < 1e-4, `voxel ${z},${y},${x}`);
    }
  });

  test("hostile chunk bytes are refused with typed errors", () => {
    const good = encodeChunk(content(30), CHUNK, CONFIG);
    // every truncation
    for (let n = 0; n < good.length; n++) {
      assert.throws(() => readChunk(good.subarray(0, n), CHUNK, CONFIG), (e: unknown) => e instanceof VmgFormatError && e.message.includes(GAUSSIAN_CODEC_NAME), `cut to ${n} bytes`);
    }
    const edited = (f: (b: Uint8Array) => void) => { const b = good.slice(); f(b); return b; };
    const head = 3 + 4 * 4; // version, kind, degree, 4 polynomial parameters
    assert.throws(() => readChunk(edited((b) => { b[0] = 1; }), CHUNK, CONFIG), UnsupportedVersionError); // version 1 chunks had the file's 45-byte table
    assert.throws(() => readChunk(edited((b) => { b[0] = 3; }), CHUNK, CONFIG), UnsupportedVersionError); // a version 3 chunk in a version 4 array
    assert.throws(() => readChunk(good, CHUNK, { ...CONFIG, version: 3 }), UnsupportedVersionError); // and the other way round
    assert.throws(() => readChunk(edited((b) => { b[head + 1] = 11; }), CHUNK, CONFIG), InvalidHeaderError); // packed position exponent past 10
    assert.throws(() => readChunk(edited((b) => { b[1] = 9; }), CHUNK, CONFIG), InvalidHeaderError);
    assert.throws(() => readChunk(edited((b) => { b[2] = 7; }), CHUNK, CONFIG), InvalidHeaderError); // polynomial degree 7
    // an absurd count: 2^32 − 1 Gaussians in a few hundred bytes
    const absurd = new Uint8Array(head + 5 + 100);
    absurd.set(good.subarray(0, head));
    writeVarint(absurd, head, 0xffffffff);
    assert.throws(() => readChunk(absurd, CHUNK, CONFIG), CountBoundError);
    // more Gaussians than the chunk has voxels
    const tiny: Shape3 = [1, 2, 2];
    const many = new Uint8Array(2 + 4 + 1 + 200);
    many[0] = GAUSSIAN_CODEC_VERSION; many[1] = 0; many[6] = 5;
    assert.throws(() => readChunk(many, tiny, CONFIG), CountBoundError);
    // a varint that never ends
    const endless = new Uint8Array([GAUSSIAN_CODEC_VERSION, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert.throws(() => readChunk(endless, CHUNK, CONFIG), InvalidHeaderError);
    // payload bytes after a count of 0
    assert.throws(() => readChunk(new Uint8Array([GAUSSIAN_CODEC_VERSION, 0, 0, 0, 0, 0, 0, 42]), CHUNK, CONFIG), CountMismatchError);
    // a huge scale: σ beyond the chunk's diagonal (f16 records carry it as written)
    const f16 = { ...CONFIG, encoding: "f16" as const };
    const huge = content(2);
    const ok = encodeChunk(huge, CHUNK, f16);
    const view = new DataView(ok.buffer, ok.byteOffset);
    const payloadAt = ok.length - 2 * 22;
    view.setUint16(payloadAt + 2 * P_SCALE, 0x7800, true); // float16 32768
    assert.throws(() => readChunk(ok, CHUNK, f16), ParameterBoundError);
    assert.throws(() => readChunk(ok.subarray(0, ok.length - 1), CHUNK, f16), CountMismatchError);
  });

  test("randomly damaged chunks decode to a full chunk or fail with a VmgFormatError, nothing else", () => {
    const good = encodeChunk(content(25, 5), CHUNK, CONFIG);
    const rng = new Random(99);
    for (let t = 0; t < 300; t++) {
      const b = good.slice();
      for (let k = 1 + rng.int(3); k > 0; k--) b[rng.int(b.length)] = rng.int(256);
      try {
        assert.equal(decodeChunk(b, CHUNK, "uint16", CONFIG).length, CHUNK[0] * CHUNK[1] * CHUNK[2]);
      } catch (e) {
        assert.ok(e instanceof VmgFormatError, `trial ${t}: ${String(e)}`);
      }
    }
  });

  test("a chunk of the released codec version 2 reads as version 4's without kinds 3 and 4; kind 3 in a version 2 array is refused; 2 is never written", () => {
    const v2 = { ...CONFIG, version: 2 };
    const c = content(20);
    const bytes = encodeChunk(c, CHUNK, CONFIG);
    const old = bytes.slice(); old[0] = 2; // version 2's chunk of this content: the same bytes but its version
    assert.deepEqual(readChunk(old, CHUNK, v2), readChunk(bytes, CHUNK, CONFIG));
    assert.deepEqual(decodeChunk(old, CHUNK, "uint16", v2), decodeChunk(bytes, CHUNK, "uint16", CONFIG));
    const half = encodeChunk({ ...c, background: halfGrid(Float64Array.from({ length: 27 }, (_, i) => 0.01 * i), 3) }, CHUNK, CONFIG);
    half[0] = 2;
    assert.throws(() => readChunk(half, CHUNK, v2), (e: unknown) => e instanceof InvalidHeaderError && /background kind 3 \(float16 grid\) is not one of codec version 2's/.test(e.message));
    assert.throws(() => encodeChunk(c, CHUNK, v2), UnencodableError);
  });

  test("the writer refuses what a reader would refuse", () => {
    const c = content(3);
    c.gaussians[P_SCALE] = 1000; // beyond the 28.8-voxel diagonal
    assert.throws(() => encodeChunk(c, CHUNK, CONFIG), ParameterBoundError);
  });

  test("configurations are checked field by field", () => {
    const json = { version: 3, encoding: "packed", truncation: 3, value_offset: 0, value_scale: 2 };
    assert.deepEqual(parseConfig(json), { version: 3, encoding: "packed", truncation: 3, valueOffset: 0, valueScale: 2 });
    assert.equal(parseConfig({ ...json, version: 2 }).version, 2); // the released version's stores are read
    for (const version of [1, 5, "3"]) assert.throws(() => parseConfig({ ...json, version }), UnsupportedVersionError);
    // version 4 leaves out the keys at their defaults, and writes them so; 3 and 2 name every key
    assert.deepEqual(parseConfig({ version: 4 }), { version: 4, encoding: "packed", truncation: 3, valueOffset: 0, valueScale: 1 });
    assert.deepEqual(parseConfig({ version: 4, encoding: "f16", value_scale: 249 }), { version: 4, encoding: "f16", truncation: 3, valueOffset: 0, valueScale: 249 });
    assert.deepEqual(configToJson({ version: 4, encoding: "packed", truncation: 3, valueOffset: 0, valueScale: 249 }), { version: 4, value_scale: 249 });
    assert.deepEqual(configToJson({ version: 3, encoding: "packed", truncation: 3, valueOffset: 0, valueScale: 249 }), { version: 3, encoding: "packed", truncation: 3, value_offset: 0, value_scale: 249 });
    const { encoding: _, ...noEncoding } = json;
    assert.throws(() => parseConfig(noEncoding), CodecConfigurationError);
    assert.throws(() => parseConfig({ ...json, encoding: "zfp" }), CodecConfigurationError);
    assert.throws(() => parseConfig({ ...json, truncation: 20 }), CodecConfigurationError);
    assert.throws(() => parseConfig({ ...json, value_scale: 0 }), CodecConfigurationError);
    assert.throws(() => parseConfig({ ...json, extra: 1 }), /unknown key "extra"/);
    assert.throws(() => parseConfig(null), CodecConfigurationError);
    assert.deepEqual(chunkShape3([8, 16, 32]), [8, 16, 32]);
    for (const bad of [[64, 64], [1, 64, 64, 64], [0, 64, 64], [64, 64.5, 64]]) assert.throws(() => chunkShape3(bad), /is not three positive integers/);
    assert.throws(() => chunkDType("uint64"), CodecConfigurationError);
  });
});

/** A 40³ uint16 volume: Gaussian structure in the low-x half only, zero elsewhere. */
function halfVolume(): Volume {
  const shape: Shape3 = [40, 40, 40];
  const f = randomFile(shape, 30, 11, { maxScale: 2.5 });
  for (let i = 0; i < f.count; i++) {
    const b = i * PARAMS_PER_GAUSSIAN + P_POS;
    f.gaussians[b] = -0.25 - 0.6 * Math.abs(f.gaussians[b]!); // x in voxels ≲ 15
    f.gaussians[b + 10 - P_POS] = 0.3 + Math.abs(f.gaussians[b + 10 - P_POS]!);
  }
  f.header.valueOffset = 0;
  f.background = constantBackground(0);
  const data = new VmgDecoder(f).decode(fullBox(shape));
  return { shape, dtype: "uint16", data, voxelSize: [2, 0.5, 0.5], unit: "micrometer", origin: [10, 20, 30] };
}

const SETTINGS = {
  chunk: 16, shard: 32, bytes: 40 ** 3 / 4, halo: 3, iterations: 12, seed: 1, encoding: "packed", background: "poly1", gate: 0.5, name: "half",
} as const;

/** Every file under `root`, by relative path. */
async function filesOf(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) { const p = join(e.parentPath, e.name); out.set(p.slice(root.length), await readFile(p)); }
  }
  return out;
}

describe("a store written by the writer", { timeout: 240_000 }, () => {
  let dir = "", store = "", volume: Volume;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vmg-store-"));
    store = join(dir, "half.ome.zarr");
    volume = halfVolume();
    await writeGaussianStore(store, volume, { ...SETTINGS, threads: 2 });
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test("its metadata is an OME-Zarr 0.5 multiscale image over zarr v3 arrays coded by the codec inside sharding_indexed", async () => {
    const group = JSON.parse(await readFile(join(store, "zarr.json"), "utf8"));
    assert.equal(group.zarr_format, 3);
    assert.equal(group.node_type, "group");
    const ome = group.attributes.ome;
    assert.equal(ome.version, "0.5");
    const ms = ome.multiscales[0];
    assert.deepEqual(ms.axes.map((a: { name: string; type: string }) => [a.name, a.type]), [["z", "space"], ["y", "space"], ["x", "space"]]);
    assert.ok(ms.axes.every((a: { unit: string }) => a.unit === "micrometer"));
    assert.equal(ms.datasets.length, 3); // 40 → 20 → 10 voxels: the last fits in one 16³ chunk
    ms.datasets.forEach((d: { path: string; coordinateTransformations: Array<{ type: string; scale?: number[]; translation?: number[] }> }, i: number) => {
      const [s, t] = d.coordinateTransformations;
      assert.equal(s!.type, "scale"); // OME 0.5: exactly one scale, then at most one translation
      assert.deepEqual(s!.scale, [2, 0.5, 0.5].map((v) => v * 2 ** i));
      assert.equal(t!.type, "translation");
      assert.deepEqual(t!.translation, [10, 20, 30].map((o, k) => o + ([2, 0.5, 0.5][k]! * (2 ** i - 1)) / 2));
    });
    for (const d of ms.datasets) {
      const a = JSON.parse(await readFile(join(store, d.path, "zarr.json"), "utf8"));
      assert.equal(a.zarr_format, 3);
      assert.equal(a.node_type, "array");
      assert.equal(a.data_type, "uint16");
      assert.deepEqual(a.dimension_names, ["z", "y", "x"]);
      const edge = 16 * Math.min(2, Math.ceil(a.shape[0] / 16)); // shards of 2³ chunks, or fewer where the level is smaller
      assert.deepEqual(a.chunk_grid, { name: "regular", configuration: { chunk_shape: [edge, edge, edge] } });
      const [sharding] = a.codecs;
      assert.equal(sharding.name, "sharding_indexed");
      assert.deepEqual(sharding.configuration.chunk_shape, [16, 16, 16]);
      assert.equal(sharding.configuration.codecs[0].name, GAUSSIAN_CODEC_NAME);
      assert.deepEqual(sharding.configuration.index_codecs.map((c: { name: string }) => c.name), ["bytes", "crc32c"]);
    }
  });

  test("the whole store keeps to its budget and reads back close to the volume", async () => {
    const info = await gaussianStoreInfo(store);
    assert.ok(info.bytes <= 40 ** 3 / 4, `${info.bytes} bytes`);
    const back = await readGaussianStore(store, 0);
    assert.deepEqual(back.shape, volume.shape);
    assert.deepEqual(back.origin, [10, 20, 30]);
    let se = 0, peak = 0;
    for (let i = 0; i < back.data.length; i++) { se += (back.data[i]! - volume.data[i]!) ** 2; peak = Math.max(peak, volume.data[i]!); }
    const psnr = 10 * Math.log10(peak ** 2 / (se / back.data.length));
    assert.ok(psnr > 25, `PSNR ${psnr.toFixed(2)} dB`);
  });

  test("a chunk decoded alone equals the same region of the store's full decode; absent chunks read as the fill value", async () => {
    const shard = new Uint8Array(await readFile(join(store, "0", "c", "0", "0", "0")));
    const index = new DataView(shard.buffer, shard.byteOffset + shard.length - 8 * 16 - 4, 8 * 16);
    const config = parseConfig(JSON.parse(await readFile(join(store, "0", "zarr.json"), "utf8")).codecs[0].configuration.codecs[0].configuration);
    const full = await readGaussianStore(store, 0);
    let present = 0;
    for (let k = 0; k < 8; k++) {
      const [iz, iy, ix] = [k >> 2, (k >> 1) & 1, k & 1];
      const offset = index.getBigUint64(16 * k, true), length = index.getBigUint64(16 * k + 8, true);
      if (offset === 0xffffffffffffffffn) continue;
      present++;
      const alone = decodeChunk(shard.subarray(Number(offset), Number(offset + length)), [16, 16, 16], "uint16", config);
      for (let z = 0; z < 16; z++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
        assert.equal(alone[(z * 16 + y) * 16 + x], full.data[((iz * 16 + z) * 40 + iy * 16 + y) * 40 + ix * 16 + x], `chunk ${k} voxel ${z},${y},${x}`);
      }
    }
    assert.ok(present > 0, "shard 0 holds chunks");
    // the high-x shards are empty: no file, and the region reads as 0
    const far = await readGaussianStore(store, 0, { z0: 0, z1: 40, y0: 0, y1: 40, x0: 32, x1: 40 });
    assert.ok(far.data.every((v) => v === 0));
    await assert.rejects(readFile(join(store, "0", "c", "0", "0", "1")), { code: "ENOENT" });
  });

  test("vmg info, decode and eval read it", async () => {
    const info = await vmg(["info", store, "--json"]);
    assert.equal(info.code, 0, info.stderr);
    const j = JSON.parse(info.stdout);
    assert.equal(j.codec, GAUSSIAN_CODEC_NAME);
    assert.deepEqual(j.levels.map((l: { shape: number[] }) => l.shape), [[40, 40, 40], [20, 20, 20], [10, 10, 10]]);
    assert.deepEqual(j.levels[0].chunks, [16, 16, 16]);
    assert.deepEqual(j.levels[0].shards, [32, 32, 32]);
    assert.ok(Math.abs(j.bpp - (8 * j.bytes) / 40 ** 3) < 1e-12);
    const out = join(dir, "box.tif");
    const dec = await vmg(["decode", store, "--level", "1", "--box", "2:10,0:20,4:12", "-o", out]);
    assert.equal(dec.code, 0, dec.stderr);
    const level1 = await readGaussianStore(store, 1, { z0: 2, z1: 10, y0: 0, y1: 20, x0: 4, x1: 12 });
    const written = await openVolume(out);
    assert.deepEqual(written.shape, [8, 20, 8]);
    assert.deepEqual(written.data, level1.data);
    const ref = join(dir, "ref.zarr");
    const { writeVolume } = await import("../src/node/atomic-write.js");
    await writeVolume(ref, volume);
    const ev = await vmg(["eval", store, "--ref", ref, "--json"]);
    assert.equal(ev.code, 0, ev.stderr);
    const e = JSON.parse(ev.stdout);
    assert.ok(e.psnr > 25 && e.ssim > 0.8, ev.stdout);
    assert.equal(e.bytes, j.bytes);
  });

  test("its bytes do not depend on the thread count", async () => {
    const one = join(dir, "one-thread.ome.zarr");
    await writeGaussianStore(one, volume, { ...SETTINGS, threads: 1 });
    const [a, b] = [await filesOf(store), await filesOf(one)];
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), k);
  });

  test("a damaged chunk in a store fails its read with the codec's typed error, naming the store, the chunk and its problem", async () => {
    const copy = join(dir, "damaged.ome.zarr");
    await cp(store, copy, { recursive: true });
    const shard = join(copy, "0", "c", "0", "0", "0");
    const bytes = new Uint8Array(await readFile(shard));
    bytes[0] = 7; // the first chunk's version byte
    await writeFile(shard, bytes);
    const where = "level 0 chunk [0, 0, 0] (shard file 0/c/0/0/0)";
    await assert.rejects(readGaussianStore(copy, 0), (e: unknown) => isVmgError(e, "format/unsupported-version") && !(e instanceof VolumeReadError) && e.message.startsWith(`${copy}: ${where}: `) && /chunk version 7 is not supported/.test(e.message));
    // a box away from it reads; one of its other chunks is named the same way
    await readGaussianStore(copy, 0, { z0: 16, z1: 32, y0: 16, y1: 32, x0: 16, x1: 32 });
    await assert.rejects(readGaussianStore(copy, 0, { z0: 4, z1: 12, y0: 0, y1: 40, x0: 0, x1: 8 }), (e: unknown) => (e as Error).message.startsWith(`${copy}: ${where}: `));
    const r = await vmg(["decode", copy, "-o", join(dir, "damaged.tif")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^vmg: .*damaged\.ome\.zarr: level 0 chunk \[0, 0, 0\] \(shard file 0\/c\/0\/0\/0\): volmicro\.gaussians chunk 16x16x16: chunk version 7/);
  });

  test("a store of the released codec version 2 (poly1 chunks) still decodes, level by level, to what its version 4 bytes decode to", async () => {
    const copy = join(dir, "version2.ome.zarr");
    await cp(store, copy, { recursive: true });
    const levels = JSON.parse(await readFile(join(copy, "zarr.json"), "utf8")).attributes.ome.multiscales[0].datasets.map((d: { path: string }) => d.path);
    let chunks = 0;
    for (const level of levels) {
      // the level's codec configuration says version 2, and every chunk's first byte
      const metaPath = join(copy, level, "zarr.json"), meta = JSON.parse(await readFile(metaPath, "utf8"));
      const sharding = meta.codecs[0].configuration, inner = sharding.codecs[0].configuration;
      assert.equal(inner.version, GAUSSIAN_CODEC_VERSION);
      sharding.codecs[0].configuration = configToJson({ ...parseConfig(inner), version: 2 }); // every key named, as version 2 did
      await writeFile(metaPath, JSON.stringify(meta));
      const n = (meta.chunk_grid.configuration.chunk_shape as number[]).reduce((p, s, a) => p * (s / sharding.chunk_shape[a]), 1);
      for (const [name, file] of await filesOf(join(copy, level, "c"))) {
        // version 2's chunk of the same content: its version byte, and a float16 polynomial (kind 4) as float32 (kind 1)
        const old = shardChunks(file, n).map((c) => {
          if (!c) return undefined;
          assert.equal(c[0], GAUSSIAN_CODEC_VERSION);
          assert.notEqual(c[1], 3, "a poly1 store holds no float16 grid");
          chunks++;
          if (c[1] !== 4) return Uint8Array.of(2, ...c.subarray(1));
          const bg = readChunk(c, sharding.chunk_shape as Shape3, parseConfig(inner)).background, f32 = new Uint8Array(4 * bg.params.length);
          bg.params.forEach((p, i) => new DataView(f32.buffer).setFloat32(4 * i, p, true));
          return Uint8Array.of(2, 1, c[2]!, ...f32, ...c.subarray(3 + 2 * bg.params.length));
        });
        await writeFile(join(copy, level, "c", name), buildShard(old)!);
      }
    }
    assert.ok(chunks > 0);
    for (let level = 0; level < levels.length; level++) {
      assert.deepEqual((await readGaussianStore(copy, level)).data, (await readGaussianStore(store, level)).data, `level ${level}`);
    }
    assert.equal((await gaussianStoreInfo(copy)).config.version, 2, "vmg info reads its version");
  });

  test("a zarr reader without the codec fails naming it", async () => {
    registry.delete(GAUSSIAN_CODEC_NAME);
    try {
      const source = await openZarrSource(store);
      await assert.rejects(source.read({ z0: 0, z1: 4, y0: 0, y1: 4, x0: 0, x1: 4 }), /volmicro\.gaussians/);
    } finally {
      registerGaussianCodec();
    }
  });

  test("vmg compress -o *.ome.zarr writes a store within its budget, and refuses a budget below its metadata or two budgets", async () => {
    const ref = join(dir, "ref.zarr");
    const out = join(dir, "cli.ome.zarr");
    const r = await vmg(["compress", ref, "-o", out, "--chunk", "16", "--shard", "32", "--bpp", "1", "--iterations", "8", "--threads", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const line = JSON.parse(r.stdout);
    assert.ok(line.bytes <= 40 ** 3 / 8 && line.bpp <= 1, r.stdout);
    assert.equal(line.levels.length, 3);
    assert.equal((await gaussianStoreInfo(out)).bytes, line.bytes);
    const small = join(dir, "small.ome.zarr");
    const bad = await vmg(["compress", ref, "-o", small, "--chunk", "16", "--size", "500"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^vmg: .*small\.ome\.zarr: a budget of 500 bytes does not cover/m);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.ok(!existsSync(small));
    const usage = await vmg(["compress", ref, "-o", join(dir, "x.vmg"), "--chunk", "16"]);
    assert.equal(usage.code, 2);
    const twoBudgets = await vmg(["compress", ref, "-o", join(dir, "two.ome.zarr"), "--bpp", "1", "--size", "5000"]);
    assert.equal(twoBudgets.code, 2);
    assert.match(twoBudgets.stderr, /give one budget: --bpp or --size/);
    assert.ok(!existsSync(join(dir, "two.ome.zarr")));
  });
});
