/**
 * `npm run bench:rd [-- --volumes a,b --bpp 0.073,0.15,0.33 --codecs vmg,jpeg2000,... ]`
 *
 * Rate-distortion and decode-speed report of `.vmg` against classical codecs and COIN on the real
 * volumes in `../shared/data`. Writes `bench/results/rd.json` (rows are merged by volume, codec and
 * target, so a partial run updates only its own rows), `rd.md` and one PSNR and one SSIM plot per
 * volume. Missing Debian packages are installed with apt-get (said on stderr) unless --no-install.
 *
 * Options: --data DIR (default ../shared/data beside the repo), --out DIR (default bench/results),
 * --vmg-iterations K, --coin-steps S, --no-install, --report-only (rewrite rd.md and plots from rd.json),
 * --streams DIR (where every encoded stream is kept, default bench/out/streams, git-ignored),
 * --merge A.json,B.json (merge rows of other runs into rd.json, then report),
 * --retime vmg,coin (decode the kept streams of these codecs again, one codec at a time, and replace the
 * decode timings: for a fair speed comparison on an otherwise idle machine).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openVolume } from "../src/node/open-volume.js";
import { aptInstall } from "./codecs/codec.js";
import { allCodecs, type CodecOptions } from "./codecs/index.js";
import { fromJson, jsonSafe, measure, timedDecode, type Row } from "./rd-core.js";
import { writeReport } from "./rd-report.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");

interface Args {
  volumes?: string[]; bpp: number[]; codecs?: string[]; data: string; out: string; streams: string;
  install: boolean; reportOnly: boolean; codecOptions: CodecOptions; merge?: string[]; retime?: string[];
}

function parse(argv: string[]): Args {
  const a: Args = { bpp: [0.073, 0.15, 0.33], data: resolve(repo, "..", "shared", "data"), out: join(repo, "bench", "results"), streams: join(repo, "bench", "out", "streams"), install: true, reportOnly: false, codecOptions: {} };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!, v = () => { const x = argv[++i]; if (x === undefined) throw new Error(`${k} needs a value`); return x; };
    const list = () => v().split(",").map((s) => s.trim()).filter(Boolean);
    switch (k) {
      case "--volumes": a.volumes = list(); break;
      case "--bpp": a.bpp = list().map(Number); if (a.bpp.some((b) => !(b > 0))) throw new Error("--bpp takes positive numbers"); break;
      case "--codecs": a.codecs = list(); break;
      case "--data": a.data = resolve(v()); break;
      case "--out": a.out = resolve(v()); break;
      case "--streams": a.streams = resolve(v()); break;
      case "--vmg-iterations": a.codecOptions.vmgIterations = Number(v()); break;
      case "--coin-steps": a.codecOptions.coinSteps = Number(v()); break;
      case "--no-install": a.install = false; break;
      case "--report-only": a.reportOnly = true; break;
      case "--merge": a.merge = list().map((f) => resolve(f)); break;
      case "--retime": a.retime = list(); break;
      case "-h": case "--help":
        console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("*/")[0]); process.exit(0);
      default: throw new Error(`unknown option ${k}`);
    }
  }
  return a;
}

const key = (r: Row) => `${r.volume}|${r.codec}|${r.target_bpp}`;

function loadRows(path: string): Row[] {
  return existsSync(path) ? fromJson(JSON.parse(readFileSync(path, "utf8")) as unknown[]) : [];
}

/** Merge one row into the file (re-read first: another run may have added rows meanwhile). */
function saveRow(path: string, row: Row): void {
  const rows = loadRows(path).filter((r) => key(r) !== key(row));
  rows.push(row);
  writeRows(path, rows);
}

function writeRows(path: string, rows: Row[]): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(jsonSafe(rows), null, 1) + "\n");
  renameSync(tmp, path);
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  mkdirSync(a.out, { recursive: true });
  const jsonPath = join(a.out, "rd.json");
  if (a.merge) {
    const byKey = new Map(loadRows(jsonPath).map((r) => [key(r), r]));
    for (const f of a.merge) for (const r of loadRows(f)) byKey.set(key(r), r);
    writeRows(jsonPath, [...byKey.values()]);
  }
  if (a.retime) { await retime(a, jsonPath); writeReport(loadRows(jsonPath), a.out); return; }
  if (a.reportOnly || a.merge) { writeReport(loadRows(jsonPath), a.out); return; }
  if (!existsSync(a.data)) throw new Error(`no data directory ${a.data} (pass --data DIR)`);
  const files = readdirSync(a.data).filter((f) => /\.tiff?$/i.test(f)).sort();
  const names = files.map((f) => f.replace(/\.tiff?$/i, ""));
  const chosen = a.volumes ? names.filter((n) => a.volumes!.some((v) => n === v || n.startsWith(v))) : names;
  if (chosen.length === 0) throw new Error(`no volume matches ${a.volumes?.join(",")} in ${a.data}`);
  let codecs = allCodecs(a.codecOptions);
  if (a.codecs) {
    const unknown = a.codecs.filter((c) => !codecs.some((k) => k.name === c));
    if (unknown.length) throw new Error(`unknown codec ${unknown.join(",")}; known: ${codecs.map((c) => c.name).join(",")}`);
    codecs = codecs.filter((c) => a.codecs!.includes(c.name));
  }
  const usable = [];
  for (const c of codecs) {
    let ok = await c.available();
    if (ok !== true && a.install && (c.install || c.aptPackages)) {
      try { if (c.install) await c.install(); else await aptInstall(c.aptPackages!); } catch (e) { process.stderr.write(`bench:rd: installing for ${c.name} failed: ${(e as Error).message}\n`); }
      ok = await c.available();
    }
    if (ok === true) usable.push(c);
    else process.stderr.write(`bench:rd: skipping ${c.name}: ${ok}\n`);
  }
  for (const name of chosen) {
    const volume = await openVolume(join(a.data, files[names.indexOf(name)]!));
    process.stderr.write(`${name}: ${volume.shape.join("x")} ${volume.dtype}\n`);
    for (const c of usable) {
      for (const bpp of c.lossless ? [null] : a.bpp) {
        const t0 = performance.now();
        let row: Row;
        try {
          row = await measure(name, volume, c, bpp, (stream) => {
            mkdirSync(join(a.streams, name), { recursive: true });
            writeFileSync(join(a.streams, name, `${c.name}@${bpp ?? "lossless"}.bin`), stream);
          });
        } catch (e) {
          process.stderr.write(`  ${c.name} @ ${bpp}: FAILED ${(e as Error).stack}\n`);
          continue;
        }
        saveRow(jsonPath, row);
        process.stderr.write(`  ${c.name.padEnd(14)} @ ${String(bpp).padEnd(5)}: ${row.bpp === null ? "unreachable" : `${row.bpp.toFixed(4)} bpp, ${row.psnr} dB, SSIM ${row.ssim}, enc ${row.encode_s} s, dec ${row.decode_s} s`}${row.note ? ` (${row.note})` : ""} [${((performance.now() - t0) / 1000).toFixed(0)} s]\n`);
      }
    }
  }
  writeReport(loadRows(jsonPath), a.out);
}

async function retime(a: Args, jsonPath: string): Promise<void> {
  const codecs = allCodecs(a.codecOptions).filter((c) => a.retime!.includes(c.name));
  for (const row of loadRows(jsonPath)) {
    const c = codecs.find((k) => k.name === row.codec);
    if (!c || row.bpp === null || (a.volumes && !a.volumes.some((v) => row.volume.startsWith(v)))) continue;
    const file = join(a.streams, row.volume, `${c.name}@${row.target_bpp ?? "lossless"}.bin`);
    if (!existsSync(file)) { process.stderr.write(`  no kept stream ${file}\n`); continue; }
    const stream = new Uint8Array(readFileSync(file));
    if (stream.length !== row.bytes) { process.stderr.write(`  ${file} is not the stream of this row (${stream.length} vs ${row.bytes} bytes)\n`); continue; }
    const dec = await timedDecode(c, stream);
    const n = dec.data.length;
    const updated: Row = { ...row, decode_s: Math.round(dec.seconds * 1e4) / 1e4, decode_mvox_s: Math.round((n / 1e6 / dec.seconds) * 100) / 100, decode_retimed: true };
    saveRow(jsonPath, updated);
    process.stderr.write(`  ${row.volume} ${c.name} @ ${row.target_bpp}: decode ${row.decode_s} s -> ${updated.decode_s} s (median of ${dec.runs})\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:rd: ${(e as Error).message}\n`);
  process.exit(1);
});
