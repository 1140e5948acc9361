/**
 * Node entry point for reading a reference volume: a TIFF stack file, a zarr v2/v3 or OME-Zarr
 * directory, or an http(s) URL to either. Errors name the path or URL they came from.
 */
import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Volume } from "../core/volume.js";
import { UnsupportedFormatError, VolumeReadError } from "../io/errors.js";
import { fetchBytes, HttpStore } from "../io/http-store.js";
import { decodeTiffStack, looksLikeTiff } from "../io/tiff.js";
import { openZarrVolume, type ZarrOpenOptions, type ZarrVolumeSource } from "../io/zarr.js";
import { FileSystemStore } from "./fs-store.js";

export type OpenVolumeOptions = ZarrOpenOptions;

const TIFF_EXT = /\.tiff?$/i;

export async function openVolume(pathOrUrl: string, opts: OpenVolumeOptions = {}): Promise<Volume> {
  if (isHttp(pathOrUrl)) {
    if (TIFF_EXT.test(new URL(pathOrUrl).pathname)) return tiffStack(await fetchBytes(pathOrUrl), pathOrUrl, opts);
    return readZarr(await openZarrSource(pathOrUrl, opts));
  }
  const path = localPath(pathOrUrl);
  const info = await statOrThrow(path);
  if (info.isDirectory()) return readZarr(await openZarrSource(path, opts));
  const bytes = await readOrThrow(path);
  if (TIFF_EXT.test(path) || looksLikeTiff(bytes)) return tiffStack(bytes, path, opts);
  throw new UnsupportedFormatError(path, "not a TIFF stack or a zarr directory");
}

async function tiffStack(bytes: Uint8Array, name: string, opts: OpenVolumeOptions): Promise<Volume> {
  if (opts.level) throw new VolumeReadError(name, `level ${opts.level} does not exist (a TIFF stack has only level 0)`);
  return decodeTiffStack(bytes, name);
}

async function readZarr(source: ZarrVolumeSource): Promise<Volume> {
  const v = await source.read();
  if (source.convertedFrom) v.sourceDType = source.convertedFrom;
  return v;
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

async function readOrThrow(path: string): Promise<Uint8Array> {
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
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
