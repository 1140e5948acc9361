/**
 * A small static server for the built viewer (dist/) and data folders, bound to 127.0.0.1 (WebGPU
 * needs a secure context, and http://127.0.0.1 is one). Counts the bytes it serves per mount, so
 * the viewer benchmark can compare what a `.vmg` layer and a zarr layer cost, and logs each request.
 * Honours single `Range: bytes=…` requests (206, suffix and open-ended ranges, 416 past the end):
 * Neuroglancer reads shard indexes and inner chunks of a zarr store that way.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json",
  ".wasm": "application/wasm", ".svg": "image/svg+xml", ".map": "application/json", ".png": "image/png",
};

export interface ServedRequest {
  method: string;
  path: string;
  /** The Range header as sent, when there was one. */
  range?: string;
  status: number;
}

export interface StaticServer {
  url: string;
  server: Server;
  /** Bytes served per mount prefix ("/" for the root). */
  bytes: Map<string, number>;
  /** Every GET or HEAD answered, in order. */
  requests: ServedRequest[];
  close(): Promise<void>;
}

/**
 * The byte range [start, end] (inclusive) a `Range` header asks of a `size`-byte file, "whole"
 * for none or one this server does not take (another unit, several ranges, malformed: RFC 9110
 * lets a server answer those with the whole file), or "unsatisfiable" (416).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | "whole" | "unsatisfiable" {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "whole";
  if (m[1] === "") { // suffix: the last n bytes
    const n = Number(m[2]);
    return n === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return "whole"; // invalid range: ignored
  return start >= size ? "unsatisfiable" : { start, end };
}

/** Serve `mounts` (URL prefix → folder; "/" is the root) on 127.0.0.1:`port` (0: any free port). */
export async function startStaticServer(mounts: Record<string, string>, port = 0): Promise<StaticServer> {
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix.endsWith("/") ? prefix : `${prefix}/`, resolve(dir)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const bytes = new Map<string, number>();
  const requests: ServedRequest[] = [];
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      const mount = table.find(([prefix]) => path.startsWith(prefix));
      if (!mount || (req.method !== "GET" && req.method !== "HEAD")) { res.writeHead(404).end(); return; }
      const [prefix, dir] = mount;
      let file = normalize(join(dir, path.slice(prefix.length)));
      if (file !== dir && !file.startsWith(dir + sep)) { res.writeHead(403).end(); return; }
      let st = await stat(file).catch(() => undefined);
      if (st?.isDirectory()) {
        file = join(file, "index.html");
        st = await stat(file).catch(() => undefined);
      }
      const rangeHeader = req.headers.range;
      const note = (status: number) => requests.push({ method: req.method!, path, ...(rangeHeader !== undefined ? { range: rangeHeader } : {}), status });
      if (!st?.isFile()) { note(404); res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}`); return; }
      const range = parseRange(rangeHeader, st.size);
      if (range === "unsatisfiable") {
        note(416);
        res.writeHead(416, { "content-range": `bytes */${st.size}`, "accept-ranges": "bytes" }).end();
        return;
      }
      const { start, end } = range === "whole" ? { start: 0, end: st.size - 1 } : range;
      const length = end - start + 1;
      const status = range === "whole" ? 200 : 206;
      note(status);
      res.writeHead(status, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "content-length": length,
        "cache-control": "no-cache",
        "accept-ranges": "bytes",
        ...(status === 206 ? { "content-range": `bytes ${start}-${end}/${st.size}` } : {}),
      });
      if (req.method === "HEAD" || length === 0) { res.end(); return; }
      bytes.set(prefix, (bytes.get(prefix) ?? 0) + length);
      createReadStream(file, { start, end }).pipe(res);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise<void>((ok, fail) => { server.once("error", fail); server.listen(port, "127.0.0.1", ok); });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}/`,
    server,
    bytes,
    requests,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}
