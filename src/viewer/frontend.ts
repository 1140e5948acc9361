/**
 * Main-thread half of the `vmg://` datasource: asks the worker for the file's header, then
 * describes the volume to Neuroglancer as a multiscale pyramid (power-of-two scales, decoded
 * analytically from the same Gaussians), with physical voxel size and a bounds annotation.
 */
import { makeDataBoundsBoundingBoxAnnotationSet } from "neuroglancer/unstable/annotation/index.js";
import { WithParameters, type ChunkManager } from "neuroglancer/unstable/chunk_manager/frontend.js";
import { makeCoordinateSpace, makeIdentityTransformedBoundingBox } from "neuroglancer/unstable/coordinate_transform.js";
import type { DataSource, DataSourceLookupResult, GetDataSourceOptions } from "neuroglancer/unstable/datasource/index.js";
import {
  makeVolumeChunkSpecificationWithDefaultCompression, VolumeType, type VolumeSourceOptions,
} from "neuroglancer/unstable/sliceview/volume/base.js";
import { MultiscaleVolumeChunkSource, VolumeChunkSource } from "neuroglancer/unstable/sliceview/volume/frontend.js";
import { DataType } from "neuroglancer/unstable/util/data_type.js";
import * as matrix from "neuroglancer/unstable/util/matrix.js";
import type { DType } from "../core/dtype.js";
import { fromWire, isVmgError, isWireError } from "../core/errors.js";
import { metresPerUnit } from "../io/units.js";
import { VMG_INFO_RPC_ID, VmgSourceParameters, type DecodeMode, type VmgInfo } from "./base.js";
import { pyramidLevels, CHUNK_EDGE } from "./pyramid.js";
import { contrastWindow } from "./shader.js";
import { voxelCentreTranslation } from "./voxel-placement.js";
import { effectiveDecodeMode, parseVmgUrl, storeRedirect, VMG_SCHEME } from "./url.js";

const DATA_TYPES: Record<DType, DataType> = {
  uint8: DataType.UINT8, uint16: DataType.UINT16, uint32: DataType.UINT32,
  int8: DataType.INT8, int16: DataType.INT16, int32: DataType.INT32, float32: DataType.FLOAT32,
};


class VmgVolumeChunkSource extends WithParameters(VolumeChunkSource, VmgSourceParameters) {}

export class VmgMultiscaleVolumeChunkSource extends MultiscaleVolumeChunkSource {
  constructor(chunkManager: ChunkManager, readonly info: VmgInfo, readonly decode: DecodeMode) {
    super(chunkManager);
  }

  get dataType(): DataType {
    return DATA_TYPES[this.info.dtype];
  }

  get volumeType(): VolumeType {
    return VolumeType.IMAGE;
  }

  get rank(): number {
    return 3;
  }

  /** One layout: every scale from full resolution to the one a single chunk covers, finest first. */
  getSources(volumeSourceOptions: VolumeSourceOptions) {
    const { info } = this;
    return [pyramidLevels(info.shape).map(({ level, shape }) => {
      const f = 2 ** level;
      const chunkToMultiscaleTransform = matrix.createIdentity(Float32Array, 4);
      for (let i = 0; i < 3; i++) chunkToMultiscaleTransform[i * 5] = f;
      const [nz, ny, nx] = shape;
      const spec = makeVolumeChunkSpecificationWithDefaultCompression({
        rank: 3,
        volumeType: VolumeType.IMAGE,
        dataType: this.dataType,
        chunkDataSize: Uint32Array.of(CHUNK_EDGE, CHUNK_EDGE, CHUNK_EDGE),
        upperVoxelBound: Float32Array.of(nx, ny, nz),
        chunkToMultiscaleTransform,
        volumeSourceOptions,
      });
      const parameters: VmgSourceParameters = { url: info.url, level, decode: this.decode };
      return {
        chunkSource: this.chunkManager.getChunkSource(VmgVolumeChunkSource, { spec, parameters }),
        chunkToMultiscaleTransform,
      };
    })];
  }
}

export async function getVmgInfo(chunkManager: ChunkManager, url: string, options: Partial<Pick<GetDataSourceOptions, "signal" | "progressListener">>): Promise<VmgInfo> {
  try {
    return await chunkManager.rpc!.promiseInvoke<VmgInfo>(VMG_INFO_RPC_ID, { url }, options);
  } catch (e) {
    throw layerError(isWireError(e) ? fromWire(e) : e);
  }
}

/** The layer shows only an error's message: a file format error's message also names its kind. */
function layerError(e: unknown): unknown {
  if (isVmgError(e, "format")) e.message = `${e.name}: ${e.message}`;
  return e;
}

/**
 * The model transform placing the layer at the file's origin (voxelCentreTranslation): a .vmg
 * layer then lines up with an OME-Zarr layer of the same volume (its original, or its chunked store).
 */
export function placement(info: Pick<VmgInfo, "origin" | "voxelSize">): Float64Array {
  const t = matrix.createIdentity(Float64Array, 4);
  t.set(voxelCentreTranslation(info.origin, info.voxelSize), 12);
  return t;
}

/**
 * Resolve `vmg://…` to a Neuroglancer DataSource, or a chunked store's URL to Neuroglancer's zarr
 * datasource (which decodes it through the codec gaussian-codec-*.ts register); errors reject and
 * show on the layer.
 */
export async function getVmgDataSource(options: GetDataSourceOptions): Promise<DataSourceLookupResult> {
  const source = parseVmgUrl(options.providerUrl, globalThis.location.href);
  const targetUrl = storeRedirect(source);
  if (targetUrl !== undefined) return { targetUrl };
  const { url, decode: layerDecode } = source;
  const decode = effectiveDecodeMode(globalThis.location.search, layerDecode);
  const chunkManager = options.registry.chunkManager;
  return chunkManager.memoize.getAsync({ type: "volmicro/vmg/dataSource", url, decode }, options, async (progressOptions) => {
    const info = await getVmgInfo(chunkManager, url, progressOptions);
    const volume = new VmgMultiscaleVolumeChunkSource(chunkManager, info, decode);
    const [nz, ny, nx] = info.shape;
    const box = { lowerBounds: new Float64Array(3), upperBounds: Float64Array.of(nx, ny, nz) };
    // a unit that names no length (or none) is shown as unit-less
    const perUnit = metresPerUnit(info.unit);
    const [sz, sy, sx] = info.voxelSize;
    const space = makeCoordinateSpace({
      names: ["x", "y", "z"],
      units: perUnit === undefined ? ["", "", ""] : ["m", "m", "m"],
      scales: Float64Array.of(sx, sy, sz).map((s) => s * (perUnit ?? 1)),
      boundingBoxes: [makeIdentityTransformedBoundingBox(box)],
    });
    const [lo, hi] = contrastWindow(info);
    const dataSource: DataSource = {
      canonicalUrl: `${VMG_SCHEME}://${url}`,
      modelTransform: { sourceRank: 3, rank: 3, inputSpace: space, outputSpace: space, transform: placement(info) },
      subsources: [
        { id: "default", default: true, subsource: { volume } },
        { id: "bounds", default: true, subsource: { staticAnnotations: makeDataBoundsBoundingBoxAnnotationSet(box) } },
      ],
      channelMetadata: { channels: [{ range: [lo, hi], window: [lo, hi] }] },
    };
    return dataSource;
  });
}
