/**
 * Errors of a compression job in words a viewer user can act on, built from each error's tag and
 * fields (core/errors.ts). The worker sends errors as `WireError`s; the page rebuilds and words
 * them. No Neuroglancer imports.
 */
import { DTYPES } from "../../core/dtype.js";
import { isVmgError, registerErrorClasses, VmgError } from "../../core/errors.js";
import type { FitInputError } from "../../fit/errors.js";
import type { MissingChunkError, UnsupportedDTypeError, VolumeFetchError, VolumeReadError } from "../../io/errors.js";

/** Regions above this many voxels are refused before reading: the fit keeps about 30 bytes per voxel. */
export const MAX_FIT_VOXELS = 48 * 1024 * 1024;

const SUPPORTED_TYPES = Object.keys(DTYPES).join(", ");

/** The region holds `value` voxels, more than the `limit` this tab fits. */
export class RegionTooLargeError extends VmgError {
  static override readonly tag: string = "viewer/region-too-large";
  readonly value: number;
  readonly limit: number;
  constructor(voxels: number) {
    super(`region of ${voxels} voxels exceeds the ${MAX_FIT_VOXELS} voxels a tab fits`);
    this.value = voxels;
    this.limit = MAX_FIT_VOXELS;
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

export function tooLargeMessage(voxels: number): string {
  return `The region has ${(voxels / 1e6).toFixed(1)} M voxels; fitting it in this browser tab needs about ` +
    `${((voxels * 30) / 2 ** 30).toFixed(1)} GiB of memory, more than the ${(MAX_FIT_VOXELS / 1e6).toFixed(0)} M voxels ` +
    `this tab allows. Choose "current view" or a coarser OME-Zarr level, or use the command line (vmg compress).`;
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
  if (isVmgError(e, "viewer/region-too-large")) return tooLargeMessage((e as RegionTooLargeError).value);
  if (isVmgError(e, "viewer/out-of-memory")) {
    return `The browser ran out of memory while ${(e as OutOfMemoryError).what}. Choose "current view" or a coarser OME-Zarr level.`;
  }
  if (isVmgError(e, "viewer/no-webgpu")) return "This browser offers no WebGPU device to fit with; choose the CPU engine.";
  const err = e instanceof Error ? e : new Error(String(e));
  return `Compression failed: ${err.name && err.name !== "Error" ? `${err.name}: ` : ""}${err.message}`;
}
