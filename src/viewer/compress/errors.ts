/**
 * Errors of a compression job in words a viewer user can act on, built from each error's tag and
 * fields (core/errors.ts). The worker sends errors as `WireError`s; the page rebuilds and words
 * them. No Neuroglancer imports.
 */
import { DTYPES } from "../../core/dtype.js";
import { isVmgError, registerErrorClasses, VmgError } from "../../core/errors.js";
import type { FitInputError } from "../../fit/errors.js";
import type { MissingChunkError, UnsupportedDTypeError, VolumeFetchError, VolumeReadError } from "../../io/errors.js";

/**
 * Bytes per voxel the fit keeps besides its copy of the voxels (target, field, residual, weights
 * and the optimiser's slabs): 40–45 measured, the peak memory of `vmg compress` on the 303³
 * trailmap (27.8 M voxels, 1,171 MB) and cellfinder (18.2 M voxels, 859 MB) volumes over their
 * voxel counts (bench/results/fit-0.073.jsonl), the 2-byte uint16 copy taken off.
 */
export const FIT_BYTES_PER_VOXEL = 42;

/**
 * The most the in-page fit may take: 1.25 GiB. The fit worker lives in the tab's renderer process
 * beside the viewer's own chunk caches and GPU uploads, and Chromium ends a renderer that grows
 * past about 4 GiB (its V8 heap cage); a fit that needs more belongs on the command line. With
 * 42 + 2 bytes per uint16 voxel this is 30.5 M voxels (the 303³ volume fits, 512³ does not).
 */
export const PAGE_FIT_BYTES = 1.25 * 2 ** 30;

/** Memory the in-page fit of `voxels` voxels of `bytesPerVoxel` needs (its copy of the voxels included). */
export function fitMemoryBytes(voxels: number, bytesPerVoxel: number): number {
  return voxels * (FIT_BYTES_PER_VOXEL + bytesPerVoxel);
}

const SUPPORTED_TYPES = Object.keys(DTYPES).join(", ");

/** The region's fit needs `value` bytes (it holds `voxels` voxels), more than the `limit` a page fits. */
export class RegionTooLargeError extends VmgError {
  static override readonly tag: string = "viewer/region-too-large";
  readonly voxels: number;
  readonly value: number;
  readonly limit: number;
  constructor(voxels: number, bytesPerVoxel: number) {
    const need = fitMemoryBytes(voxels, bytesPerVoxel);
    super(`region of ${voxels} voxels needs about ${need} bytes to fit, more than the ${PAGE_FIT_BYTES} a page fits`);
    this.voxels = voxels;
    this.value = need;
    this.limit = PAGE_FIT_BYTES;
  }
}

/** An allocation failed while `what` (the engine's RangeError is the cause). */
export class OutOfMemoryError extends VmgError {
  static override readonly tag: string = "viewer/out-of-memory";
  readonly what: string;
  constructor(what: string, cause: unknown) {
    super(`out of memory while ${what} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.what = what;
  }
}

/** The WebGPU engine was chosen in a browser without a WebGPU device. */
export class NoWebGpuError extends VmgError {
  static override readonly tag: string = "viewer/no-webgpu";
  constructor() {
    super("no WebGPU device");
  }
}
registerErrorClasses(RegionTooLargeError, OutOfMemoryError, NoWebGpuError);

/**
 * Run `f`, reporting the engine's allocation failures (a RangeError that is not one of ours:
 * "Array buffer allocation failed", "Invalid typed array length") as OutOfMemoryError.
 */
export async function withMemoryGuard<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RangeError && !isVmgError(e)) throw new OutOfMemoryError(what, e);
    throw e;
  }
}

/** Why the page refuses a region whose fit needs `need` bytes (of `voxels` voxels); `command` is the CLI's equivalent, when known. */
export function tooLargeMessage(voxels: number, need: number, command?: string): string {
  return `The region has ${(voxels / 1e6).toFixed(1)} M voxels; fitting it in this page needs about ` +
    `${(need / 2 ** 30).toFixed(1)} GiB of memory, more than the ${(PAGE_FIT_BYTES / 2 ** 30).toFixed(2)} GiB a page may take. ` +
    `Choose "current view" or a coarser OME-Zarr level, or compress it on the command line` +
    (command ? `, as a chunked store: ${command}` : " (vmg compress … -o out.ome.zarr).");
}

/** Characters a shell word may hold unquoted. */
const SHELL_SAFE = /^[\w@%+=:,./-]+$/;

function shellWord(s: string): string {
  return SHELL_SAFE.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * The `vmg compress` command that makes a chunked store of `sourceUrl` (the layer's store) at
 * `bpp`, named after the layer: what to run instead of a fit too large for the page.
 */
export function cliCompressCommand(sourceUrl: string, layerName: string, bpp: number): string {
  const name = layerName.replace(/[^\w.-]+/g, "_").replace(/^[.-]+/, "") || "layer";
  return `vmg compress ${shellWord(sourceUrl)} -o ${shellWord(`${name}.ome.zarr`)} --bpp ${Number(bpp.toPrecision(3))}`;
}

export function plainError(e: unknown, storeUrl: string): string {
  if (isVmgError(e, "io/unsupported-dtype")) {
    return `This layer's voxel type (${(e as UnsupportedDTypeError).dtype}) cannot be compressed: VolMicro handles ${SUPPORTED_TYPES}.`;
  }
  if (isVmgError(e, "io/missing-chunk")) {
    return `The store at ${storeUrl} lacks chunk ${(e as MissingChunkError).chunkKey}: it looks incompletely copied, so the fit would see blank data. Nothing was compressed.`;
  }
  if (isVmgError(e, "io/fetch")) {
    const f = e as VolumeFetchError;
    if (f.status !== undefined) return `The server answered HTTP ${f.status} when reading ${storeUrl}: ${f.problem}.`;
    return `The browser could not read ${storeUrl} (${f.problem}). Either the server is unreachable or it does not ` +
      `allow this page's origin to read it (CORS): the store must send Access-Control-Allow-Origin for ${globalThis.location?.origin ?? "this page"}.`;
  }
  if (isVmgError(e, "io/not-a-volume") || isVmgError(e, "io/unsupported-format")) {
    return `The data at ${storeUrl} is not a single-channel 3D image VolMicro can fit: ${(e as VolumeReadError).problem}.`;
  }
  if (isVmgError(e, "io/read")) return `Reading ${storeUrl} failed: ${(e as VolumeReadError).problem}.`;
  if (isVmgError(e, "fit/input")) return `The region cannot be fitted: ${(e as FitInputError).problem}.`;
  if (isVmgError(e, "viewer/region-too-large")) {
    const r = e as RegionTooLargeError;
    return tooLargeMessage(r.voxels, r.value);
  }
  if (isVmgError(e, "viewer/out-of-memory")) {
    return `The browser ran out of memory while ${(e as OutOfMemoryError).what}. Choose "current view" or a coarser OME-Zarr level.`;
  }
  if (isVmgError(e, "viewer/no-webgpu")) return "This browser offers no WebGPU device to fit with; choose the CPU engine.";
  const err = e instanceof Error ? e : new Error(String(e));
  return `Compression failed: ${err.name && err.name !== "Error" ? `${err.name}: ` : ""}${err.message}`;
}
