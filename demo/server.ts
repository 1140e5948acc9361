/**
 * A small static server for the built viewer (dist/) and data folders, bound to 127.0.0.1 (WebGPU
 * needs a secure context, and http://127.0.0.1 is one). Counts the bytes it serves per mount, so
 * the viewer benchmark can compare what a `.vmg` layer and a zarr layer cost.
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

export interface StaticServer {
  url: string;
  server: Server;
  /** Bytes served per mount prefix ("/" for the root). */
  bytes: Map<string, number>;
  close(): Promise<void>;
}

/** Serve `mounts` (URL prefix → folder; "/" is the root) on 127.0.0.1:`port` (0: any free port). */
export async function startStaticServer(mounts: Record<string, string>, port = 0): Promise<StaticServer> {
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix.endsWith("/") ? prefix : `${prefix}/`, resolve(dir)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const bytes = new Map<string, number>();
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
      if (!st?.isFile()) { res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}`); return; }
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "content-length": st.size,
        "cache-control": "no-cache",
      });
      if (req.method === "HEAD") { res.end(); return; }
      bytes.set(prefix, (bytes.get(prefix) ?? 0) + st.size);
      createReadStream(file).pipe(res);
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
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}
