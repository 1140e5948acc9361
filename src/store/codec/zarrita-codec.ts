/**
 * The Gaussian chunk codec in zarrita's codec registry, so that any zarrita reader (the CLI, a
 * browser page) opens a store written by `vmg compress … -o out.ome.zarr` as an ordinary array.
 * Encoding raw voxels is a fit, not a codec step: `encode` refuses and names the command that fits.
 */
import { registry } from "zarrita";
import type { Shape3 } from "../../core/gaussian.js";
import { CodecConfigurationError } from "../../format/errors.js";
import { chunkDType, chunkShape3, GAUSSIAN_CODEC_NAME, parseConfig, type GaussianCodecConfig } from "./config.js";
import { decodeChunk } from "./chunk.js";
import type { DType } from "../../core/dtype.js";

interface ChunkMeta { dataType: string; shape: number[] }

function cOrderStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]!; }
  return s;
}

export class GaussianChunkCodec {
  readonly kind = "array_to_bytes" as const;
  private readonly strides: number[];

  constructor(readonly config: GaussianCodecConfig, readonly dtype: DType, readonly shape: Shape3) {
    this.strides = cOrderStrides([...shape]);
  }

  static fromConfig(configuration: unknown, meta: ChunkMeta): GaussianChunkCodec {
    return new GaussianChunkCodec(parseConfig(configuration), chunkDType(meta.dataType), chunkShape3(meta.shape));
  }

  encode(): never {
    throw new CodecConfigurationError(`${GAUSSIAN_CODEC_NAME}: chunks are fitted, not encoded from voxels; write the store with vmg compress`);
  }

  decode(bytes: Uint8Array): { data: ArrayBufferView; shape: number[]; stride: number[] } {
    return { data: decodeChunk(bytes, this.shape, this.dtype, this.config), shape: [...this.shape], stride: this.strides };
  }
}

/** Adds the codec to zarrita's registry (idempotent); call before opening a store. */
export function registerGaussianCodec(): void {
  if (!registry.has(GAUSSIAN_CODEC_NAME)) registry.set(GAUSSIAN_CODEC_NAME, async () => GaussianChunkCodec as never);
}
