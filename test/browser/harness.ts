/**
 * Browser-test plumbing: a development build of the viewer (made once, reused while its inputs are
 * unchanged), the static server, Debian's Chromium through puppeteer, and helpers to open a
 * Neuroglancer state and read the page back.
 */
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer";
import { ensureViewerBuild, ROOT } from "../../demo/build.js";
import { startStaticServer, type StaticServer } from "../../demo/server.js";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox", "--enable-unsafe-webgpu", "--enable-unsafe-swiftshader", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
];

/** The viewer built in development mode (about 5 s) into .cache/, once per change of its inputs. */
export async function ensureBuild(): Promise<string> {
  return (await ensureViewerBuild("development", join(ROOT, ".cache/viewer-test-dist"))).outDir;
}

export interface Env {
  server: StaticServer;
  browser: Browser;
  close(): Promise<void>;
}

/** Build, serve `dist` at / and `data` at /data/, launch Chromium. */
export async function startEnv(dataDir: string): Promise<Env> {
  const dist = await ensureBuild();
  const server = await startStaticServer({ "/": dist, "/data": dataDir });
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  return { server, browser, close: async () => { await browser.close(); await server.close(); } };
}

export interface OpenedPage {
  page: Page;
  /** Uncaught page errors seen so far. */
  errors: string[];
  console: string[];
}

/** Open the viewer with `state` (query e.g. "?vmgDecode=cpu") and wait until Neuroglancer is ready. */
export async function openViewer(env: Env, state: unknown, query = "", waitReady = true): Promise<OpenedPage> {
  const page = await env.browser.newPage();
  await page.setViewport({ width: 800, height: 600, deviceScaleFactor: 1 });
  const errors: string[] = [], consoleLines: string[] = [];
  page.on("pageerror", (e) => errors.push(String((e as Error).message ?? e)));
  page.on("console", (m) => consoleLines.push(m.text()));
  await page.goto(`${env.server.url}${query}#!${encodeURIComponent(JSON.stringify(state))}`);
  if (waitReady) await waitForReady(page);
  return { page, errors, console: consoleLines };
}

/** An empty viewer whose page hooks (`window.volmicro`) are installed: for tests that drive the hooks, not layers. */
export async function openHooksPage(env: Env, timeout = 90_000): Promise<OpenedPage> {
  const opened = await openViewer(env, { layers: [] }, "", false);
  await opened.page.waitForFunction(() => "volmicro" in globalThis, { timeout });
  return opened;
}

export async function waitForReady(page: Page, timeout = 90_000): Promise<void> {
  await page.waitForFunction(() => (globalThis as unknown as { viewer?: { isReady(): boolean } }).viewer?.isReady() === true, { timeout, polling: 100 });
  // one more frame so the canvas shows what isReady saw
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

export interface Rect { x: number; y: number; width: number; height: number }

export interface GrayImage { width: number; height: number; gray: Uint8Array }

/** Screen rectangles of the rendered-data panels (cross-sections and 3D views), in DOM order. */
export async function panelRects(page: Page): Promise<Rect[]> {
  return page.$$eval(".neuroglancer-rendered-data-panel", (els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    return { x: Math.round(r.x), y: Math.round(r.y), width: Math.round(r.width), height: Math.round(r.height) };
  }));
}

/** Grayscale (red channel) pixels of a screen rectangle. */
export async function regionPixels(page: Page, rect: Rect): Promise<GrayImage> {
  const png = await page.screenshot({ clip: rect, encoding: "base64", type: "png" });
  const red = await page.evaluate(async (b64: string) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = new OffscreenCanvas(img.width, img.height);
    const ctx = c.getContext("2d")!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, img.width, img.height).data;
    const out: number[] = new Array(img.width * img.height);
    for (let i = 0; i < out.length; i++) out[i] = d[4 * i]!;
    return { w: img.width, h: img.height, out };
  }, png);
  return { width: red.w, height: red.h, gray: Uint8Array.from(red.out) };
}

/** Grayscale (red channel) pixels of the single cross-section panel, and its size. */
export async function panelPixels(page: Page): Promise<GrayImage> {
  return regionPixels(page, (await panelRects(page))[0]!);
}

/** Text of the error messages the layer side panel shows. */
export async function layerErrors(page: Page): Promise<string[]> {
  return page.$$eval(".neuroglancer-message-error", (els) => els.map((e) => e.textContent ?? ""));
}
