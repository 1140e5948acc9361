/**
 * `npm run bench:fit [-- --json] [-- --volumes a,b --bpp 0.073 --iterations K --encodings packed,f16]`:
 * compresses the benchmark volumes at a bitrate, in each payload encoding, and prints per volume
 * bpp, Gaussians, PSNR, SSIM, seconds and peak memory beside JPEG2000 (OpenJPEG, Z planes as
 * components, -mct 0) at the same byte budget.
 * Fitted files land in bench/out/ so `vmg eval` can reproduce the figures.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { evaluate } from "../src/metrics/evaluate.js";
import { openVolume } from "../src/node/open-volume.js";
import { aptInstall } from "./codecs/codec.js";
import { jpeg2000Codec } from "./codecs/jpeg2000.js";

const args = process.argv.slice(2);
const flag = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const json = args.includes("--json");
const bpp = Number(flag("bpp") ?? 0.073);
const iterations = flag("iterations");
const encodings = (flag("encodings") ?? "packed,f16").split(",");
const volumes = (flag("volumes") ?? "trailmap_lightsheet_axons_303x303x303_u16,cellfinder_serial2p_signal_26x1116x627_u16,rivuletpy_neuron_small_51x76x176_u8,diadem_OP9_crop_92x77x86_u8").split(",");
const dataDir = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const outDir = fileURLToPath(new URL("./out/", import.meta.url));
const log = (s: string) => process.stderr.write(s + "\n");

if (!existsSync(dataDir)) {
  log("bench:fit: ../shared/data is not present; nothing to benchmark");
  process.exit(0);
}
mkdirSync(outDir, { recursive: true });
const j2k = jpeg2000Codec("2d");
if ((await j2k.available()) !== true) {
  log("bench:fit: installing OpenJPEG (Debian libopenjp2-tools) for the JPEG2000 baseline");
  await aptInstall(j2k.aptPackages!);
}

function fitOne(volume: string, encoding: string): Promise<Record<string, number | string>> {
  const stem = `${outDir}${volume}_${bpp}_${encoding}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./fit-one.ts", import.meta.url)),
      `${dataDir}${volume}.tif`, `${stem}.vmg`, String(bpp), encoding, iterations ?? "", `${stem}.svg`], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b));
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1)!)) : reject(new Error(`fit of ${volume} exited ${code}`))));
  });
}

for (const name of volumes) {
  const volume = await openVolume(`${dataDir}${name}.tif`);
  const budget = Math.floor((bpp * volume.data.length) / 8);
  const enc = await j2k.encode(volume, budget);
  let j2kRow: { bpp: number | null; psnr: number | null; ssim: number | null } = { bpp: null, psnr: null, ssim: null };
  if (enc) {
    const dec = await j2k.decode(enc.stream);
    const m = evaluate(volume.data, dec.data, volume.shape);
    j2kRow = { bpp: (enc.bytes * 8) / volume.data.length, psnr: m.psnr, ssim: m.ssim };
  }
  for (const encoding of encodings) {
    log(`bench:fit: ${name} at ${bpp} bpp, ${encoding} encoding…`);
    const fit = await fitOne(name, encoding);
    const row = { volume: name, ...fit, j2k_bpp: j2kRow.bpp, j2k_psnr: j2kRow.psnr, j2k_ssim: j2kRow.ssim };
    if (json) console.log(JSON.stringify(row));
    else {
      const f = (x: unknown, d = 2) => (typeof x === "number" ? x.toFixed(d) : "n/a");
      console.log(`${name} [${encoding}]: .vmg ${f(fit.bpp, 4)} bpp, ${fit.gaussians} Gaussians, PSNR ${f(fit.psnr)} dB, SSIM ${f(fit.ssim, 4)}, ${f(fit.seconds, 1)} s, peak ${fit.peak_mb} MB | JPEG2000 ${f(j2kRow.bpp, 4)} bpp, PSNR ${f(j2kRow.psnr)} dB, SSIM ${f(j2kRow.ssim, 4)}`);
    }
  }
}
