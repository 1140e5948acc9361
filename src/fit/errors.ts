import { registerErrorClasses, VmgError } from "../core/errors.js";

/** A volume the fitter cannot work with (empty, constant, 2D, unsupported dtype, …), named by its source. */
export class FitInputError extends VmgError {
  static override readonly tag: string = "fit/input";
  readonly source: string;
  readonly problem: string;
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.source = source;
    this.problem = problem;
  }
}

/**
 * The fit would hold no Gaussian, and that is the answer, not a fault: the volume is constant, has
 * nothing above its background, or the budget buys none. A caller that can store the background
 * alone (a store's chunk) does; every other FitInputError is bad input and must fail.
 */
export class NothingToFitError extends FitInputError {
  static override readonly tag: string = "fit/input/nothing";
}

/** The fit was cancelled through its AbortSignal. */
export class FitCancelledError extends VmgError {
  static override readonly tag: string = "fit/cancelled";
  constructor() {
    super("fit cancelled");
  }
}
registerErrorClasses(FitInputError, NothingToFitError, FitCancelledError);
