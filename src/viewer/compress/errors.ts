/**
 * Errors of a compression job in words a viewer user can act on. Runs in the worker (errors
 * cross to the page as text). No Neuroglancer imports.
 */
import { DTYPES } from "../../core/dtype.js";
import { FitInputError } from "../../fit/errors.js";
import { MissingChunkError, NotAVolumeError, UnsupportedDTypeError, UnsupportedFormatError, VolumeReadError } from "../../io/errors.js";

/** Regions above this many voxels are refused before reading: the fit keeps about 30 bytes per voxel. */
export const MAX_FIT_VOXELS = 48 * 1024 * 1024;

const SUPPORTED_TYPES = Object.keys(DTYPES).join(", ");

export function tooLargeMessage(voxels: number): string {
  return `The region has ${(voxels / 1e6).toFixed(1)} M voxels; fitting it in this browser tab needs about ` +
    `${((voxels * 30) / 2 ** 30).toFixed(1)} GiB of memory, more than the ${(MAX_FIT_VOXELS / 1e6).toFixed(0)} M voxels ` +
    `this tab allows. Choose "current view" or a coarser OME-Zarr level, or use the command line (vmg compress).`;
}

export function plainError(e: unknown, storeUrl: string): string {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err instanceof UnsupportedDTypeError) {
    return `This layer's voxel type (${err.dtype}) cannot be compressed: VolMicro handles ${SUPPORTED_TYPES}.`;
  }
  if (err instanceof MissingChunkError) {
    return `The store at ${storeUrl} lacks chunk ${err.chunkKey}: it looks incompletely copied, so the fit would see blank data. Nothing was compressed.`;
  }
  if (err instanceof NotAVolumeError || err instanceof UnsupportedFormatError) {
    return `The data at ${storeUrl} is not a single-channel 3D image VolMicro can fit: ${err.problem}.`;
  }
  if (err instanceof VolumeReadError) return `Reading ${storeUrl} failed: ${err.problem}.`;
  if (err instanceof FitInputError) return `The region cannot be fitted: ${err.message.slice(err.source.length + 2)}.`;
  if (err instanceof RangeError && /allocation|memory|Invalid typed array length|Array buffer/i.test(err.message)) {
    return `The browser ran out of memory for this region (${err.message}). Choose "current view" or a coarser OME-Zarr level.`;
  }
  if (err instanceof TypeError && /fetch|network|load failed/i.test(err.message)) {
    return `The browser could not read ${storeUrl} (${err.message}). Either the server is unreachable or it does not ` +
      `allow this page's origin to read it (CORS): the store must send Access-Control-Allow-Origin for ${globalThis.location?.origin ?? "this page"}.`;
  }
  const status = /status (\d{3})/i.exec(err.message)?.[1];
  if (status) return `The server answered HTTP ${status} when reading ${storeUrl}: ${err.message}.`;
  return `Compression failed: ${err.name && err.name !== "Error" ? `${err.name}: ` : ""}${err.message}`;
}
