/**
 * Chunk worker: what Neuroglancer's zarr chunk source does not tell the page about a Gaussian
 * store. Its `download` is wrapped (the class is Neuroglancer's, its prototype patched once at
 * import) so that (1) a failed chunk of an array coded by `volmicro.gaussians` reaches the page
 * with its error's tag and message (Neuroglancer 2.41 only logs it), and (2) the codec's decode
 * half, which Neuroglancer calls with the chunk's bytes and abort signal alone, can find the
 * chunk's source by that signal, to report which path decoded it, and (3) a Gaussian store's
 * first chunk request starts what its decode needs (gaussian-codec-warm.ts). Imported by
 * chunk-worker.ts.
 */
import { ZarrVolumeChunkSource } from "neuroglancer/unstable/datasource/zarr/backend.js";
import { CodecKind, type CodecChainSpec } from "neuroglancer/unstable/datasource/zarr/codec/index.js";
import { isVmgError } from "../core/errors.js";
import { GAUSSIAN_CODEC_NAME } from "../store/codec/config.js";
import { VMG_STORE_CHUNK_FAILURE_RPC_ID, type StoreChunkFailure } from "./base.js";
import type { ResolvedGaussianConfig } from "./gaussian-codec.js";
import { warmGaussianDecode } from "./gaussian-codec-warm.js";

const inFlight = new WeakMap<AbortSignal, ZarrVolumeChunkSource>();

/** The zarr chunk source whose chunk request carries `signal`, while that request runs. */
export function storeSourceOf(signal: AbortSignal): ZarrVolumeChunkSource | undefined {
  return inFlight.get(signal);
}

/** The resolved configuration of the array's `volmicro.gaussians` codec (inside any shards), or undefined for another codec. */
function gaussianCodecConfig(codecs: CodecChainSpec): ResolvedGaussianConfig | undefined {
  let c = codecs;
  while (c.shardingInfo) c = c.shardingInfo.subChunkCodecs;
  const spec = c[CodecKind.arrayToBytes];
  return spec.name === GAUSSIAN_CODEC_NAME ? spec.configuration as ResolvedGaussianConfig : undefined;
}

const download = ZarrVolumeChunkSource.prototype.download;
ZarrVolumeChunkSource.prototype.download = async function (this: ZarrVolumeChunkSource, chunk: unknown, signal: AbortSignal): Promise<void> {
  const gaussian = gaussianCodecConfig(this.parameters.metadata.codecs);
  if (gaussian) warmGaussianDecode(gaussian, this.parameters.metadata.dataType);
  inFlight.set(signal, this);
  try {
    await download.call(this, chunk, signal);
  } catch (e) {
    // A cancelled chunk did not fail.
    if (!signal.aborted && gaussian) {
      const err = e instanceof Error ? e : new Error(String(e));
      const failure: StoreChunkFailure = { url: this.parameters.url, tag: isVmgError(err) ? err.tag : err.name, message: err.message };
      this.rpc?.invoke(VMG_STORE_CHUNK_FAILURE_RPC_ID, failure);
    }
    throw e;
  } finally {
    inFlight.delete(signal);
  }
};
