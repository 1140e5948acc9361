/**
 * A block's share of the planning pass (docs/vmg-zarr-codec.md § 6.3): what the allocation needs
 * of a chunk — its slope statistics (the pursuit, the costly part, so it runs on a worker thread)
 * or its weight — and the CRC-32 of its voxels, from the chunk's voxels alone.
 */
import { crc32 } from "../format/crc32.js";
import { VolumeReadError } from "../io/errors.js";
import { cutBox } from "../io/region.js";
import { blockStats, NO_GAINS, type BlockStats } from "./allocation.js";
import { blockValid, isGated, validField, type ChunkJob } from "./block-fit.js";
import { nodeStats } from "./continuous-background.js";
import { describeBlock, type FailedBlock } from "./manifest.js";

/** How the store allocates bytes, the most Gaussians a block of this level can be given, and whether the chunk's CRC is wanted. */
export interface PlanHow {
  allocation: "slope" | "energy" | "uniform";
  maxGaussians: number;
  /** False at level 0, whose CRCs (of the block with its halo, plannedCrc) the input's statistics pass takes. */
  crc: boolean;
  /** Whether the store's background is continuous: the chunk's node statistics are wanted. */
  nodes: boolean;
}

export interface BlockPlanStats {
  /** The slope allocation's statistics (NO_GAINS for the other allocations). */
  stats: BlockStats;
  /** The energy or uniform allocation's weight (0: an empty chunk; 0 for the slope allocation). */
  weight: number;
  /** blockCrc of the chunk (0 when `how.crc` is false). */
  crc: number;
  /** The chunk's nodeStats (when `how.nodes`). */
  nodes?: Float32Array;
}

/** A chunk's planning statistics. */
export function planBlock(job: ChunkJob, how: PlanHow): BlockPlanStats {
  const crc = how.crc ? blockCrc(job) : 0;
  const corners = how.nodes ? { nodes: nodeStats(validField(job), job.valid, job.chunk, job.gate) } : {};
  if (how.allocation !== "slope") return { stats: NO_GAINS, weight: how.allocation === "uniform" ? (hasStructure(job) ? 1 : 0) : energyAboveMean(job), crc, ...corners };
  const voxels = job.valid[0] * job.valid[1] * job.valid[2];
  // no block can hold more Gaussians than it has voxels (which bounds the pursuit's memory by the block)
  return { stats: blockStats(validField(job), job.valid, job.gate, Math.min(how.maxGaussians, voxels)), weight: 0, crc, ...corners };
}

/**
 * Whether planBlock needs no worker: a chunk the gate finds empty or too thin has no pursuit to
 * run (the slope statistics are NO_GAINS), and the energy and uniform weights are one cheap pass.
 */
export function planIsCheap(job: ChunkJob, how: PlanHow): boolean {
  return how.allocation !== "slope" || isGated(job);
}

/** CRC-32 of a job's chunk voxels (its block without the halo), C order. */
export function blockCrc(job: ChunkJob): number {
  return voxelCrc(cutBox(job.block, blockValid(job)).data);
}

/** CRC-32 of voxels' bytes (little-endian, x fastest). */
export function voxelCrc(d: ArrayBufferView): number {
  return crc32(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
}

/**
 * The CRC-32 a plan records for a job at `level`: of the whole block (chunk and halo) at level 0,
 * whose voxels come from the input, so a change in a neighbour's voxels that the halo reads is seen
 * too; of the chunk's voxels for the levels below, which come from the run's own levels.
 */
export function plannedCrc(job: ChunkJob, level: number): number {
  return level === 0 ? voxelCrc(job.block.data) : blockCrc(job);
}

/**
 * Refuses a block read again for its fit whose voxels are not the planned ones (their CRC-32,
 * plannedCrc, differs from the plan's): the input changed or is corrupt `since` planning (e.g. "since vmg compress --queue
 * planned the store"), and fitting it would write a store of two inputs.
 */
export function checkPlannedBlock(job: ChunkJob, planned: number, input: string, block: Pick<FailedBlock, "level" | "chunk" | "box">, since: string): void {
  const crc = plannedCrc(job, block.level);
  if (crc !== planned) {
    throw new VolumeReadError(input, `${describeBlock(block)}: its voxels are not those planned (CRC-32 ${crc.toString(16)}, planned ${planned.toString(16)}): the input is corrupt or changed ${since}`);
  }
}

/** Σ |f − mean| over the chunk's voxels in field units, 0 when no voxel is above the gate. */
function energyAboveMean(job: ChunkJob): number {
  const f = validField(job);
  if (!f.some((x) => x > job.gate)) return 0;
  const mean = f.reduce((s, x) => s + x, 0) / f.length;
  return f.reduce((s, x) => s + Math.abs(x - mean), 0);
}

function hasStructure(job: ChunkJob): boolean {
  return validField(job).some((x) => x > job.gate);
}
