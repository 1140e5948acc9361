/**
 * Messages between the page and the "Compress this layer" Web Worker. Plain data only (structured
 * clone); no Neuroglancer imports, so Node tests can use the types too.
 */
import type { Box } from "../../core/background.js";
import type { WireError } from "../../core/errors.js";
import type { DType } from "../../core/dtype.js";
import type { Budget } from "../../fit/budget.js";
import type { StepLog } from "../../fit/fitter.js";

export type FitEngineKind = "cpu" | "webgpu";

export interface FitJob {
  /** http(s) URL of the zarr array or OME-Zarr group. */
  storeUrl: string;
  /** Name for messages and the file's metadata. */
  name: string;
  /** OME-Zarr level (0 = finest). */
  level: number;
  /** Sub-box of that level, z/y/x voxels; the whole level when absent. */
  box?: Box;
  budget: Budget;
  iterations: number;
  seed: number;
  engine: FitEngineKind;
}

export interface SourceFacts {
  shape: [number, number, number];
  dtype: DType;
  voxelSize?: [number, number, number];
  unit?: string;
  /** The level's origin (z, y, x), where the store gives one. */
  origin?: [number, number, number];
  /** Seconds spent reading the region from the store. */
  readSeconds: number;
}

export interface FitOutcome {
  bytes: Uint8Array;
  gaussians: number;
  /** Against the region read from the store, decoded exactly as the viewer decodes the file. */
  psnr: number;
  ssim: number;
  /** Seconds of the fit alone and of the whole job (read, fit, evaluation). */
  fitSeconds: number;
  seconds: number;
  /** Voxels × bytes per voxel of the region. */
  rawBytes: number;
  voxels: number;
  engine: string;
}

export type ToWorker = { type: "start"; job: FitJob };

export type FromWorker =
  | { type: "stage"; stage: string }
  | { type: "source"; facts: SourceFacts }
  | { type: "step"; step: StepLog }
  | { type: "done"; outcome: FitOutcome }
  | { type: "error"; error: WireError };
