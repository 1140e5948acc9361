/**
 * Types for the Neuroglancer 2.41 modules we use that ship no declarations (upstream declaration
 * emit fails on their mixins): only what this project touches. Declared under the package's
 * internal `#src/...` names, which its own .d.ts files import, and re-exported under the public
 * `neuroglancer/unstable/...` names our code imports.
 */
declare module "#src/chunk_manager/frontend.js" {
  import { SharedObject } from "neuroglancer/unstable/worker_rpc.js";
  import type { StringMemoize } from "neuroglancer/unstable/util/memoize.js";

  export class ChunkManager extends SharedObject {
    memoize: StringMemoize;
    getChunkSource<T>(constructor: new (chunkManager: ChunkManager, options: any) => T, options: any): T;
  }
  export class Chunk {}
  export class ChunkSource extends SharedObject {
    constructor(chunkManager: ChunkManager, options?: any);
    chunkManager: ChunkManager;
  }
  /** Mixin: adds `parameters` (sent to the worker counterpart) to a chunk source class. */
  export function WithParameters<P, TBase extends abstract new (...args: any[]) => object>(
    base: TBase, parametersConstructor: { new (): P; RPC_ID: string },
  ): TBase & (abstract new (...args: any[]) => { parameters: P });
}

declare module "#src/chunk_manager/backend.js" {
  import { SharedObjectCounterpart } from "neuroglancer/unstable/worker_rpc.js";

  export class Chunk {}
  export class ChunkSource extends SharedObjectCounterpart {
    download(chunk: Chunk, signal: AbortSignal): Promise<void>;
  }
  export function WithParameters<P, TBase extends abstract new (...args: any[]) => object>(
    base: TBase, parametersConstructor: { new (): P; RPC_ID: string },
  ): TBase & (abstract new (...args: any[]) => { parameters: P });
}

declare module "#src/sliceview/frontend.js" {
  import { Chunk, ChunkSource, type ChunkManager } from "#src/chunk_manager/frontend.js";

  export class SliceViewChunk extends Chunk {}
  export class SliceViewChunkSource<Spec = unknown, _C = unknown> extends ChunkSource {
    spec: Spec;
  }
  export abstract class MultiscaleSliceViewChunkSource<Source = unknown, Options = unknown> {
    constructor(chunkManager: ChunkManager);
    chunkManager: ChunkManager;
    abstract get rank(): number;
    abstract getSources(options: Options): Array<Array<{ chunkSource: Source; chunkToMultiscaleTransform: Float32Array }>>;
  }
}

declare module "#src/sliceview/backend.js" {
  import { Chunk, ChunkSource } from "#src/chunk_manager/backend.js";

  export class SliceViewChunk extends Chunk {
    chunkGridPosition: Float32Array;
  }
  export class SliceViewChunkSourceBackend extends ChunkSource {}
}

declare module "neuroglancer/unstable/chunk_manager/frontend.js" {
  export * from "#src/chunk_manager/frontend.js";
}
declare module "neuroglancer/unstable/chunk_manager/backend.js" {
  export * from "#src/chunk_manager/backend.js";
}

declare module "neuroglancer/unstable/layer/image/index.js" {
  import type { UserLayer } from "neuroglancer/unstable/layer/index.js";
  import type { WatchableValueInterface } from "neuroglancer/unstable/trackable_value.js";
  export class ImageUserLayer extends UserLayer {
    fragmentMain: WatchableValueInterface<string>;
    shaderControlState: { toJSON(): unknown; restoreState(x: unknown): void };
  }
}

declare module "neuroglancer/unstable/chunk_worker.bundle.js";
declare module "neuroglancer/unstable/async_computation.bundle.js";

declare module "neuroglancer/unstable/datasource/zarr/backend.js" {
  import type { CodecChainSpec } from "neuroglancer/unstable/datasource/zarr/codec/index.js";
  import type { DataType } from "neuroglancer/unstable/util/data_type.js";
  import type { RPC } from "neuroglancer/unstable/worker_rpc.js";
  /** The zarr datasource's worker-side chunk source: one per level array. */
  export class ZarrVolumeChunkSource {
    parameters: { url: string; metadata: { codecs: CodecChainSpec; dataType: DataType } };
    rpc: RPC | null;
    download(chunk: unknown, signal: AbortSignal): Promise<void>;
  }
}
