/**
 * The configuration of the `volmicro.gaussians` zarr v3 array→bytes codec (docs/vmg-zarr-codec.md
 * § 2): everything a store's chunks share. Parsed strictly, so that a reader never guesses.
 */
import { MAX_TRUNCATION_SIGMA, MIN_TRUNCATION_SIGMA } from "../../core/constants.js";
import { isDType, type DType } from "../../core/dtype.js";
import type { Shape3 } from "../../core/gaussian.js";
import type { EncodingName } from "../../format/encodings.js";
import { CodecConfigurationError, UnsupportedVersionError } from "../../format/errors.js";

/** The codec's registered name: namespaced like `numcodecs.*`, so it cannot collide with a zarr core codec. */
export const GAUSSIAN_CODEC_NAME = "volmicro.gaussians";
/** Codec version this implementation writes (configuration `version`, chunk byte 0). */
export const GAUSSIAN_CODEC_VERSION = 4;
/**
 * Codec versions it reads: 4, 3 and 2 (the released writer's). Version 3's chunks are version 4's
 * without background kind 4, version 2's without kinds 3 and 4; a version 3 or 2 configuration
 * names every key (docs/vmg-zarr-codec.md § 7).
 */
export const READABLE_CODEC_VERSIONS: readonly number[] = [2, 3, GAUSSIAN_CODEC_VERSION];
/** The first version whose configuration may leave out a key at its default (DEFAULTS). */
const DEFAULTS_VERSION = 4;

export interface GaussianCodecConfig {
  version: number;
  /** Gaussian payload encoding of every chunk (the file spec's § 4 or § 5). */
  encoding: EncodingName;
  /** Kernel truncation radius r, in standard deviations. */
  truncation: number;
  /** stored value = value_offset + value_scale · field, rounded as the file spec's § 2.4. */
  valueOffset: number;
  valueScale: number;
}

const KEYS = ["version", "encoding", "truncation", "value_offset", "value_scale"];
/**
 * From version 4, the value of a key left out. A small store's level zarr.json is a tenth of what
 * its Gaussians get, and these are what the writer nearly always chooses (truncation always; u8 and
 * u16 data often map their 0.1th percentile, 0, to 0).
 */
const DEFAULTS: Record<string, unknown> = { encoding: "packed", truncation: 3, value_offset: 0, value_scale: 1 };

/** The JSON configuration object of `c` as zarr.json holds it: from version 4, without the keys at their defaults. */
export function configToJson(c: GaussianCodecConfig): Record<string, unknown> {
  const all: Record<string, unknown> = { version: c.version, encoding: c.encoding, truncation: c.truncation, value_offset: c.valueOffset, value_scale: c.valueScale };
  if (c.version < DEFAULTS_VERSION) return all;
  return Object.fromEntries(Object.entries(all).filter(([k, v]) => DEFAULTS[k] !== v));
}

/** Checks a zarr.json codec configuration; throws CodecConfigurationError naming the field. */
export function parseConfig(json: unknown): GaussianCodecConfig {
  const bad = (m: string) => new CodecConfigurationError(`${GAUSSIAN_CODEC_NAME} configuration: ${m}`);
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("is not a JSON object");
  const o = json as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !KEYS.includes(k));
  if (unknown.length) throw bad(`unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}`);
  const version = o["version"];
  if (typeof version !== "number" || !READABLE_CODEC_VERSIONS.includes(version)) {
    throw new UnsupportedVersionError(`${GAUSSIAN_CODEC_NAME} configuration: version ${JSON.stringify(version)} is not supported (this reader reads ${READABLE_CODEC_VERSIONS.join(", ")})`);
  }
  // a version 2 or 3 configuration names every key (its readers required them)
  const value = (k: string) => {
    if (Object.hasOwn(o, k)) return o[k];
    if (version < DEFAULTS_VERSION) throw bad(`"${k}" is missing (a version ${version} configuration names every key)`);
    return DEFAULTS[k];
  };
  const encoding = value("encoding");
  if (encoding !== "packed" && encoding !== "f16") throw bad(`encoding ${JSON.stringify(encoding)} is not "packed" or "f16"`);
  const truncation = value("truncation");
  if (typeof truncation !== "number" || !(truncation >= MIN_TRUNCATION_SIGMA && truncation <= MAX_TRUNCATION_SIGMA)) {
    throw bad(`truncation ${JSON.stringify(truncation)} is not a number in [${MIN_TRUNCATION_SIGMA}, ${MAX_TRUNCATION_SIGMA}]`);
  }
  const a = value("value_offset"), b = value("value_scale");
  if (typeof a !== "number" || !Number.isFinite(a)) throw bad(`value_offset ${JSON.stringify(a)} is not a finite number`);
  if (typeof b !== "number" || !Number.isFinite(b) || b === 0) throw bad(`value_scale ${JSON.stringify(b)} is not a non-zero finite number`);
  return { version, encoding, truncation: Math.fround(truncation), valueOffset: a, valueScale: b };
}

/** The array's zarr data type as a decodable dtype, or CodecConfigurationError. */
export function chunkDType(dataType: string): DType {
  if (!isDType(dataType)) throw new CodecConfigurationError(`${GAUSSIAN_CODEC_NAME}: array data type "${dataType}" is not one it decodes to (uint8/16/32, int8/16/32, float32)`);
  return dataType;
}

/** The chunk shape as (z, y, x), or CodecConfigurationError: the codec decodes three-dimensional chunks only. */
export function chunkShape3(shape: readonly number[]): Shape3 {
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new CodecConfigurationError(`${GAUSSIAN_CODEC_NAME}: chunk shape [${shape.join(", ")}] is not three positive integers (z, y, x)`);
  }
  return [shape[0]!, shape[1]!, shape[2]!];
}
