/**
 * fetch with typed failures, made where they happen: no response at all (unreachable server, CORS
 * refusal) and a refused request (HTTP status) both become `VolumeFetchError` naming the source,
 * with `cause` or `status` set, so callers never parse fetch's own messages. Aborts pass through.
 */
import { VolumeFetchError } from "./errors.js";

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === "AbortError" || e.name === "TimeoutError");
}

async function send(source: string, input: Request | string): Promise<Response> {
  try {
    return await fetch(input);
  } catch (e) {
    if (isAbort(e)) throw e;
    const why = (e as { cause?: { message?: string } }).cause?.message ?? (e instanceof Error ? e.message : "");
    throw new VolumeFetchError(source, `cannot fetch${why ? ` (${why})` : ""}`, { cause: e });
  }
}

function refused(source: string, res: Response): VolumeFetchError {
  return new VolumeFetchError(source, `HTTP ${res.status} ${res.statusText}`.trim(), { status: res.status });
}

/** The response of a request that must succeed (2xx). */
export async function fetchOk(source: string, url: string): Promise<Response> {
  const res = await send(source, url);
  if (!res.ok) throw refused(source, res);
  return res;
}

/** A `fetch` for zarrita's FetchStore: 404 stays an answer (an absent key), other refusals throw. */
export function storeFetch(source: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const res = await send(source, request);
    if (!res.ok && res.status !== 404) throw refused(source, res);
    return res;
  };
}
