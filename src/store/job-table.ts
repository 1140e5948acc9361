/**
 * A run's job table (docs/vmg-zarr-codec.md § 6.3): every chunk job's record — level, chunk, byte
 * cap and planned CRC-32 — at a fixed size beside the manifest, so a task reads the one job it
 * runs by its offset and holds nothing that grows with the run. Jobs are numbered levels in order,
 * chunks in C order, so a job's level and chunk (and every shard's jobs) follow from the levels'
 * grids alone (jobPlace, plannedShard); only the cap and CRC need the table.
 *
 * Layout, little-endian: "VMGJOBS\0", u32 version, u32 job count, then per job six u32 — level,
 * cz, cy, cx, cap, CRC — and the CRC-32 of those 24 bytes. A reader checks the header once and
 * every record it reads: its own CRC, and that it holds the job its offset says.
 */
import type { Shape3 } from "../core/gaussian.js";
import { crc32 } from "../format/crc32.js";
import type { LevelLayout, PlannedJob, PlannedShard } from "./manifest.js";

const MAGIC = [0x56, 0x4d, 0x47, 0x4a, 0x4f, 0x42, 0x53, 0x00]; // "VMGJOBS\0"
export const JOB_TABLE_VERSION = 1;
export const JOB_TABLE_HEADER_BYTES = 16;
export const JOB_RECORD_BYTES = 28;

/** Byte offset of job k's record. */
export function jobRecordOffset(k: number): number {
  return JOB_TABLE_HEADER_BYTES + k * JOB_RECORD_BYTES;
}

/** Chunks of each level, in order (jobs per level). */
export function levelJobCounts(levels: Pick<LevelLayout, "chunkGrid">[]): number[] {
  return levels.map((l) => l.chunkGrid[0] * l.chunkGrid[1] * l.chunkGrid[2]);
}

export function jobCount(levels: Pick<LevelLayout, "chunkGrid">[]): number {
  return levelJobCounts(levels).reduce((a, b) => a + b, 0);
}

/** Job k's level and chunk, from the levels' grids (undefined: no such job). */
export function jobPlace(levels: Pick<LevelLayout, "chunkGrid">[], k: number): Pick<PlannedJob, "level" | "chunk"> | undefined {
  if (!Number.isInteger(k) || k < 0) return undefined;
  let i = k;
  for (let level = 0; level < levels.length; level++) {
    const [gz, gy, gx] = levels[level]!.chunkGrid, n = gz * gy * gx;
    if (i < n) return { level, chunk: [Math.floor(i / (gy * gx)), Math.floor(i / gx) % gy, i % gx] };
    i -= n;
  }
  return undefined;
}

/** The job of a level's chunk (the inverse of jobPlace). */
export function jobIndex(levels: Pick<LevelLayout, "chunkGrid">[], level: number, c: Shape3): number {
  let k = 0;
  for (let l = 0; l < level; l++) k += levels[l]!.chunkGrid[0] * levels[l]!.chunkGrid[1] * levels[l]!.chunkGrid[2];
  const g = levels[level]!.chunkGrid;
  return k + (c[0] * g[1] + c[1]) * g[2] + c[2];
}

/** Shards of all levels (levels in order, shards in C order). */
export function shardCount(levels: Pick<LevelLayout, "shardGrid">[]): number {
  return levels.reduce((n, l) => n + l.shardGrid[0] * l.shardGrid[1] * l.shardGrid[2], 0);
}

/** Shard i: its file (relative to the store) and its inner chunks' jobs in C order (-1 outside the grid); undefined: no such shard. */
export function plannedShard(levels: LevelLayout[], i: number): PlannedShard | undefined {
  if (!Number.isInteger(i) || i < 0) return undefined;
  let s = i;
  for (let li = 0; li < levels.length; li++) {
    const l = levels[li]!, [nz, ny, nx] = l.shardGrid;
    if (s >= nz * ny * nx) { s -= nz * ny * nx; continue; }
    const sz = Math.floor(s / (ny * nx)), sy = Math.floor(s / nx) % ny, sx = s % nx, [pz, py, px] = l.perShard, g = l.chunkGrid;
    const jobs: number[] = [];
    for (let iz = 0; iz < pz; iz++) for (let iy = 0; iy < py; iy++) for (let ix = 0; ix < px; ix++) {
      const c: Shape3 = [sz * pz + iz, sy * py + iy, sx * px + ix];
      jobs.push(c[0] < g[0] && c[1] < g[1] && c[2] < g[2] ? jobIndex(levels, li, c) : -1);
    }
    return { level: li, path: `${l.path}/c/${sz}/${sy}/${sx}`, jobs };
  }
  return undefined;
}

/** The table of `jobs` (job k at index k, as the planning pass numbers them). */
export function encodeJobTable(jobs: PlannedJob[]): Uint8Array {
  const out = new Uint8Array(jobRecordOffset(jobs.length));
  out.set(MAGIC);
  const view = new DataView(out.buffer);
  view.setUint32(8, JOB_TABLE_VERSION, true);
  view.setUint32(12, jobs.length, true);
  jobs.forEach((j, k) => {
    const o = jobRecordOffset(k);
    [j.level, ...j.chunk, j.bytes, j.crc].forEach((v, i) => view.setUint32(o + 4 * i, v, true));
    view.setUint32(o + 24, crc32(out, o, o + 24), true);
  });
  return out;
}

/**
 * The manifest's digest of a table (`jobs.crc32`): the CRC-32 of its header and of each record's
 * fields, the records' own CRC-32s left out. (A CRC over bytes followed by their own CRC is the
 * same for any bytes, so the CRC of the whole table would depend on its header alone and could not
 * tell another plan's table of the same count.)
 */
export function jobTableDigest(table: Uint8Array): number {
  let c = crc32(table, 0, Math.min(table.length, JOB_TABLE_HEADER_BYTES));
  for (let o = JOB_TABLE_HEADER_BYTES; o + JOB_RECORD_BYTES <= table.length; o += JOB_RECORD_BYTES) c = crc32(table, o, o + 24, c);
  return c;
}

/** Checks a table's first JOB_TABLE_HEADER_BYTES against the manifest's job count; throws an Error saying what is wrong. */
export function checkJobTableHeader(head: Uint8Array, count: number): void {
  if (head.length < JOB_TABLE_HEADER_BYTES || MAGIC.some((b, i) => head[i] !== b)) throw new Error("is not a job table (no VMGJOBS header)");
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const version = view.getUint32(8, true), n = view.getUint32(12, true);
  if (version !== JOB_TABLE_VERSION) throw new Error(`its layout is ${version}, this vmg reads ${JOB_TABLE_VERSION}`);
  if (n !== count) throw new Error(`holds ${n} jobs, its manifest ${count}`);
}

/** Job k from its record (JOB_RECORD_BYTES at `at`), checked: its CRC, and that it is the job k of `levels`. */
export function decodeJobRecord(record: Uint8Array, levels: Pick<LevelLayout, "chunkGrid">[], k: number): PlannedJob {
  if (record.length < JOB_RECORD_BYTES) throw new Error(`ends inside job ${k}'s record`);
  const view = new DataView(record.buffer, record.byteOffset, JOB_RECORD_BYTES);
  const f = [0, 1, 2, 3, 4, 5].map((i) => view.getUint32(4 * i, true));
  if (crc32(record, 0, 24) !== view.getUint32(24, true)) throw new Error(`job ${k}'s record is damaged (its CRC-32 does not match)`);
  const place = jobPlace(levels, k);
  if (!place || place.level !== f[0] || place.chunk.some((c, a) => c !== f[1 + a])) throw new Error(`job ${k}'s record holds level ${f[0]} chunk [${f.slice(1, 4).join(", ")}], not job ${k} of the run's levels`);
  return { level: f[0]!, chunk: [f[1]!, f[2]!, f[3]!], bytes: f[4]!, crc: f[5]! };
}

/** Where a run's jobs are read: `count` of them, each in full (cap, CRC) on request. */
export interface JobTable {
  readonly count: number;
  /** Job k; rejects for a k outside the run or a damaged record. */
  job(k: number): Promise<PlannedJob>;
  /**
   * The byte caps of jobs `ks` from one read of the whole table, -1 for a record that is damaged
   * (its own CRC or place; its block fails when it runs); rejects for a table that cannot be read
   * or is not its run's (header, size, CRC-32 with no damaged record to account for it).
   */
  caps(ks: readonly number[]): Promise<Float64Array>;
}

/** Jobs `ks`'s caps read from a whole `table`, -1 where a record does not check out (decodeJobRecord); `damaged`: how many. */
export function recordCaps(table: Uint8Array, levels: Pick<LevelLayout, "chunkGrid">[], ks: readonly number[]): { caps: Float64Array; damaged: number } {
  const caps = new Float64Array(ks.length);
  let damaged = 0;
  ks.forEach((k, i) => {
    try {
      caps[i] = decodeJobRecord(table.subarray(jobRecordOffset(k), jobRecordOffset(k + 1)), levels, k).bytes;
    } catch {
      caps[i] = -1;
      damaged++;
    }
  });
  return { caps, damaged };
}

/** Whether any record of `table` is damaged (its CRC or place): then a whole-table CRC mismatch is that damage, not another plan's table. */
export function hasDamagedRecord(table: Uint8Array, levels: Pick<LevelLayout, "chunkGrid">[], count: number): boolean {
  return recordCaps(table, levels, Array.from({ length: count }, (_, k) => k)).damaged > 0;
}

/** A table held in memory (the planning pass's, which wrote it): its bytes, 28 per job. */
export function memoryJobTable(levels: Pick<LevelLayout, "chunkGrid">[], bytes: Uint8Array): JobTable {
  const count = (bytes.length - JOB_TABLE_HEADER_BYTES) / JOB_RECORD_BYTES;
  return {
    count,
    job: async (k) => {
      if (!(Number.isInteger(k) && k >= 0 && k < count)) throw new RangeError(`no job ${k} (the run has ${count})`);
      return decodeJobRecord(bytes.subarray(jobRecordOffset(k), jobRecordOffset(k + 1)), levels, k);
    },
    caps: async (ks) => recordCaps(bytes, levels, ks).caps,
  };
}

/** Every shard of the levels, in order (made one at a time). */
export function* allShards(levels: LevelLayout[]): Generator<PlannedShard> {
  for (let i = 0, n = shardCount(levels); i < n; i++) yield plannedShard(levels, i)!;
}
