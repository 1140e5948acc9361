/**
 * A read-only zarrita store over http(s) with `fetch`, answering as object stores do:
 * 404 is an absent key, and so is 403 — S3 and GCS answer 403 instead of 404 for a missing key
 * when the caller may read objects but not list the bucket, so a reader that took 403 as fatal
 * could never probe for `zarr.json` before `.zarray`, nor read a store that omits empty chunks.
 * (A store the caller truly may not read fails on its metadata: nothing is found at all.)
 * Other statuses are `HttpStatusError`s and unreachable servers `ConnectionError`s that keep the
 * system error (ECONNREFUSED, ENOTFOUND, …), both naming the URL.
 *
 * Browser-safe: `fetch` only.
 */
import type { AbsolutePath, RangeQuery } from "zarrita";
import { ConnectionError, HttpStatusError } from "./errors.js";

const ABSENT = new Set([403, 404]);

export class HttpStore {
  readonly url: string;

  /** `name` is what errors are reported against (the store URL by default). */
  constructor(url: string, private readonly name = url) {
    this.url = url.replace(/\/+$/, "");
  }

  async get(key: AbsolutePath, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> {
    return (await this.request(key, undefined, opts?.signal))?.bytes;
  }

  async getRange(key: AbsolutePath, range: RangeQuery, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> {
    const header = "suffixLength" in range ? `bytes=-${range.suffixLength}` : `bytes=${range.offset}-${range.offset + range.length - 1}`;
    const got = await this.request(key, header, opts?.signal);
    // A server that ignores Range answers 200 with the whole object.
    if (!got || got.partial) return got?.bytes;
    const bytes = got.bytes;
    return "suffixLength" in range ? bytes.subarray(Math.max(0, bytes.length - range.suffixLength)) : bytes.subarray(range.offset, range.offset + range.length);
  }

  private async request(key: string, range: string | undefined, signal: AbortSignal | undefined): Promise<{ bytes: Uint8Array; partial: boolean } | undefined> {
    const url = `${this.url}${key}`;
    let res: Response;
    try {
      res = await fetch(url, { ...(range ? { headers: { Range: range } } : {}), ...(signal ? { signal } : {}) });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new ConnectionError(this.name, url, e);
    }
    if (ABSENT.has(res.status)) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new HttpStatusError(this.name, url, res.status, res.statusText);
    }
    return { bytes: new Uint8Array(await res.arrayBuffer()), partial: res.status === 206 };
  }
}

/** Whole-file GET for non-zarr sources (a TIFF URL), with the same error types. */
export async function fetchBytes(url: string, name = url): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ConnectionError(name, url, e);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new HttpStatusError(name, url, res.status, res.statusText);
  }
  return new Uint8Array(await res.arrayBuffer());
}
