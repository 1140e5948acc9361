/**
 * The fit kernel path a store's run records (its manifest's settings) and every block fit of the
 * run takes: a fit on the WebAssembly kernel and one on JavaScript agree to float32 rounding, not
 * byte for byte, so a store fitted partly on each (Redis workers on mixed hosts, a `--resume` or a
 * `--blocks` task with VMG_DECODE_KERNEL=js) would depend on where each block ran. Fixed at plan
 * time from the planning thread's kernel; a host that cannot take the planned path is refused.
 */
import { layoutSignature } from "../decode/kernel-layout.js";
import { installedFitKernel, type FitKernelPath } from "../fit/objective.js";

/** The settings' keys: the path, and with "wasm" the kernel's memory layout (kernel-layout.ts layoutSignature). */
export const FIT_KERNEL = "fit_kernel";
export const FIT_KERNEL_LAYOUT = "fit_kernel_layout";

/** What a plan made on this thread records. */
export function fitKernelSettings(): Record<string, string | number> {
  return installedFitKernel() === "wasm" ? { [FIT_KERNEL]: "wasm", [FIT_KERNEL_LAYOUT]: layoutSignature() } : { [FIT_KERNEL]: "js" };
}

const NAMES: Record<FitKernelPath, string> = { wasm: "the WebAssembly fit kernel", js: "the JavaScript fit path" };

/**
 * The path a run planned with `settings` fits on, or why this thread cannot take it (a problem for
 * a one-line error naming the store). A JS-planned run fits on JS even where the kernel is built.
 */
export function plannedFitKernel(settings: Record<string, string | number>): { path: FitKernelPath } | { problem: string } {
  const planned = settings[FIT_KERNEL];
  if (planned !== "wasm" && planned !== "js") return { problem: `its manifest records no fit kernel path (${FIT_KERNEL} ${JSON.stringify(planned)})` };
  if (planned === "js") return { path: "js" };
  if (installedFitKernel() !== "wasm") {
    return { problem: `planned with ${NAMES.wasm}, this host has only ${NAMES.js} (VMG_DECODE_KERNEL=js, no dist/wasm or no WebAssembly SIMD); run it where the kernel is built` };
  }
  const layout = settings[FIT_KERNEL_LAYOUT];
  if (layout !== layoutSignature()) return { problem: `planned with ${NAMES.wasm} of layout ${JSON.stringify(layout)}, this vmg's kernel has layout ${layoutSignature()}; run it with the vmg that planned it` };
  return { path: "wasm" };
}
