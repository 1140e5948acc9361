/**
 * What a budget buys before the fit starts: Gaussians, file size, bits per voxel and ratio to the
 * raw voxels, with the fitter's own budget arithmetic (fit/budget.ts). The background, metadata and
 * the packed encoding's bytes per Gaussian are only known while fitting, so the overhead and the
 * record size are the typical ones: an estimate, shown as such. A byte or bpp budget is a hard cap.
 * No DOM or Neuroglancer imports (unit-tested in Node).
 */
import { maxGaussians, overheadBytes, type Budget } from "../../fit/budget.js";
import { PACKED_HEADER_BYTES } from "../../format/packed.js";

export type BudgetMode = "bpp" | "gaussians" | "kib";

export const BUDGET_MODES: Record<BudgetMode, { label: string; unit: string; initial: number }> = {
  bpp: { label: "bits per voxel", unit: "bpp", initial: 0.073 },
  gaussians: { label: "Gaussian count", unit: "Gaussians", initial: 2000 },
  kib: { label: "file size", unit: "KiB", initial: 64 },
};

/** Quality presets: optimiser steps. */
export const PRESETS: Array<{ id: string; label: string; iterations: number }> = [
  { id: "quick", label: "Quick (150 steps)", iterations: 150 },
  { id: "standard", label: "Standard (300 steps)", iterations: 300 },
  { id: "best", label: "Best (600 steps)", iterations: 600 },
];

export function budgetOf(mode: BudgetMode, value: number): Budget {
  if (mode === "bpp") return { bpp: value };
  if (mode === "gaussians") return { gaussians: Math.max(1, Math.round(value)) };
  return { bytes: Math.round(value * 1024) };
}

export interface BudgetEstimate {
  gaussians: number;
  /** Largest file the budget allows. */
  bytes: number;
  bpp: number;
  /** Raw voxel bytes / file bytes. */
  ratio: number;
}

/** Typical overhead: a coarse-grid background (~40 parameters), the metadata section, the packed payload's header. */
const TYPICAL_OVERHEAD = overheadBytes(40, [160]) + PACKED_HEADER_BYTES;
/** Typical bytes per Gaussian of the fitter's default (packed) encoding, as the fitter itself starts from. */
export const TYPICAL_GAUSSIAN_BYTES = 9.5;

/** The budget's outcome for `voxels` voxels of `bytesPerVoxel`, or the reason it buys nothing. */
export function estimateBudget(budget: Budget, voxels: number, bytesPerVoxel: number): BudgetEstimate | string {
  if (!(voxels > 0)) return "the region is empty";
  const values = [budget.bpp, budget.gaussians, budget.bytes].filter((v) => v !== undefined);
  if (values.length !== 1 || !values.every((v) => Number.isFinite(v) && v! > 0)) return "enter a positive number";
  let gaussians: number;
  try {
    gaussians = maxGaussians(budget, voxels, TYPICAL_OVERHEAD, "region", TYPICAL_GAUSSIAN_BYTES);
  } catch (e) {
    return (e as Error).message.replace(/^region: /, "");
  }
  const bytes = Math.round(TYPICAL_OVERHEAD + gaussians * TYPICAL_GAUSSIAN_BYTES);
  return { gaussians, bytes, bpp: (bytes * 8) / voxels, ratio: (voxels * bytesPerVoxel) / bytes };
}
