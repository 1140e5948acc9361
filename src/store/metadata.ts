/**
 * What a Gaussian store's zarr.json files say (docs/vmg-zarr-codec.md § 5), read the same way by
 * the CLI's store reader and the viewer's layer tab: the OME-Zarr levels of the root group and,
 * per level array, the codec's configuration and the inner chunk shape (inside `sharding_indexed`
 * or not). No I/O: callers fetch the JSON.
 */
import { GAUSSIAN_CODEC_NAME } from "./codec/config.js";

export interface ArrayJson {
  shape?: number[];
  data_type?: string;
  chunk_grid?: { configuration?: { chunk_shape?: number[] } };
  chunk_key_encoding?: { name?: string; configuration?: { separator?: string } };
  codecs?: Array<{ name: string; configuration?: Record<string, unknown> }>;
}

export interface GaussianCodecUse {
  /** The codec's configuration as zarr.json holds it (parse with store/codec/config parseConfig). */
  config: unknown;
  /** Shape of a chunk the codec decodes: the shard's inner chunk, else the array's chunk. */
  chunks: number[];
  /** True when the chunks lie inside `sharding_indexed` shards (whose shape is the array's chunk grid). */
  sharded: boolean;
}

/** The Gaussian codec's configuration and the inner chunk shape of an array's zarr.json, if it uses the codec. */
export function gaussianCodec(a: ArrayJson): GaussianCodecUse | undefined {
  for (const c of a.codecs ?? []) {
    if (c.name === GAUSSIAN_CODEC_NAME) return { config: c.configuration, chunks: a.chunk_grid?.configuration?.chunk_shape ?? [], sharded: false };
    if (c.name === "sharding_indexed") {
      const inner = (c.configuration?.["codecs"] as ArrayJson["codecs"] | undefined)?.find((x) => x.name === GAUSSIAN_CODEC_NAME);
      if (inner) return { config: inner.configuration, chunks: (c.configuration?.["chunk_shape"] as number[] | undefined) ?? [], sharded: true };
    }
  }
  return undefined;
}

/** The array paths of an OME-Zarr group's first multiscale (finest first), if it has one. */
export function levelPaths(group: unknown): string[] | undefined {
  const ms = (group as { attributes?: { ome?: { multiscales?: Array<{ datasets?: Array<{ path: string }> }> } } } | undefined)?.attributes?.ome?.multiscales?.[0];
  return ms?.datasets?.map((d) => d.path);
}
