/** A volume the fitter cannot work with (empty, constant, 2D, unsupported dtype, …), named by its source. */
export class FitInputError extends Error {
  constructor(readonly source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = "FitInputError";
  }
}

/** The fit was cancelled through its AbortSignal. */
export class FitCancelledError extends Error {
  constructor() {
    super("fit cancelled");
    this.name = "FitCancelledError";
  }
}
