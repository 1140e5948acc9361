/**
 * Node entry point for reading a volume: a TIFF stack file, a zarr v2/v3 or OME-Zarr directory, or
 * an http(s) URL to either, whole (`openVolume`) or as a source of region reads (`openVolumeSource`:
 * a local TIFF is read through a file handle, a page range at a time; a TIFF over http is fetched
 * whole, as one response). Errors name the path or URL they came from.
 */
import { open, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Volume } from "../core/volume.js";
import { UnsupportedFormatError, VolumeReadError } from "../io/errors.js";
import { fetchBytes, HttpStore } from "../io/http-store.js";
import { wholeBox, type VolumeSource } from "../io/region.js";
import { bytesRanges, looksLikeTiff, openTiffSource, type ByteRanges } from "../io/tiff.js";
import { openZarrVolume, type ZarrOpenOptions, type ZarrVolumeSource } from "../io/zarr.js";
import { FileSystemStore } from "./fs-store.js";

export type OpenVolumeOptions = ZarrOpenOptions;

const TIFF_EXT = /\.tiff?$/i;

export async function openVolume(pathOrUrl: string, opts: OpenVolumeOptions = {}): Promise<Volume> {
  const source = await openVolumeSource(pathOrUrl, opts);
  const v = await source.read(wholeBox(source.shape));
  if (source.convertedFrom) v.sourceDType = source.convertedFrom;
  return v;
}

/** The volume at a path or URL opened for region reads, without loading it. */
export async function openVolumeSource(pathOrUrl: string, opts: OpenVolumeOptions = {}): Promise<VolumeSource> {
  if (isHttp(pathOrUrl)) {
    if (TIFF_EXT.test(new URL(pathOrUrl).pathname)) return tiffSource(bytesRanges(await fetchBytes(pathOrUrl)), pathOrUrl, opts);
    return openZarrSource(pathOrUrl, opts);
  }
  const path = localPath(pathOrUrl);
  const info = await statOrThrow(path);
  if (info.isDirectory()) return openZarrSource(path, opts);
  const file = fileRanges(path, info.size);
  if (TIFF_EXT.test(path) || looksLikeTiff(await file.read(0, 16))) return tiffSource(file, path, opts);
  throw new UnsupportedFormatError(path, "not a TIFF stack or a zarr directory");
}

function tiffSource(file: ByteRanges, name: string, opts: OpenVolumeOptions): Promise<VolumeSource> {
  if (opts.level) throw new VolumeReadError(name, `level ${opts.level} does not exist (a TIFF stack has only level 0)`);
  return openTiffSource(file, name);
}

/** A local file's bytes by range, each read through its own handle (no descriptor outlives a read). */
function fileRanges(path: string, size: number): ByteRanges {
  return {
    size,
    read: async (offset, length) => {
      const n = Math.max(0, Math.min(length, size - offset));
      const out = new Uint8Array(n);
      let fh;
      try {
        fh = await open(path, "r");
        for (let done = 0; done < n;) {
          const { bytesRead } = await fh.read(out, done, n - done, offset + done);
          if (bytesRead === 0) throw new Error(`the file ended at byte ${offset + done}, ${size} expected (changed while read?)`);
          done += bytesRead;
        }
      } catch (e) {
        throw new VolumeReadError(path, fsProblem(e), { cause: e });
      } finally {
        await fh?.close();
      }
      return out;
    },
  };
}

/** A zarr directory or http(s) URL opened for sub-box reads (`read(box)`), without loading it. */
export async function openZarrSource(pathOrUrl: string, opts: OpenVolumeOptions = {}): Promise<ZarrVolumeSource> {
  if (isHttp(pathOrUrl)) return openZarrVolume(new HttpStore(pathOrUrl), pathOrUrl, opts);
  const path = localPath(pathOrUrl);
  const info = await statOrThrow(path);
  if (!info.isDirectory()) throw new UnsupportedFormatError(path, "not a zarr directory");
  return openZarrVolume(new FileSystemStore(path), path, opts);
}

function isHttp(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function localPath(s: string): string {
  return s.startsWith("file:") ? fileURLToPath(s) : s;
}

async function statOrThrow(path: string) {
  try {
    return await stat(path);
  } catch (e) {
    throw new VolumeReadError(path, fsProblem(e), { cause: e });
  }
}

function fsProblem(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return e instanceof Error ? e.message : String(e);
}
