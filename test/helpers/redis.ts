/**
 * A real Redis for a test: `redis-server` on 127.0.0.1 on a free port, nothing persisted, stopped by
 * the test. `startRedis` resolves undefined when redis-server is not installed (the test skips).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export interface TestRedis { url: string; port: number; stop: () => Promise<void> }

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `port`: a given one (a server started again where a stopped one was), else a free one. */
export async function startRedis(port?: number): Promise<TestRedis | undefined> {
  port ??= await freePort();
  const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const ready = await new Promise<boolean>((resolve, reject) => {
    child.once("error", (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? resolve(false) : reject(e)));
    child.once("exit", (code) => reject(new Error(`redis-server exited (code ${code}) before it was ready: ${log}`)));
    child.stdout!.on("data", (d: Buffer) => {
      log += d.toString();
      if (/Ready to accept connections/.test(log)) resolve(true);
    });
  });
  if (!ready) return undefined;
  child.removeAllListeners("exit");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url: `redis://127.0.0.1:${port}/0`, port,
    stop: async () => { child.kill("SIGTERM"); await exited; },
  };
}
