/** Typed errors of the queue engine. */
import { registerErrorClasses, VmgError } from "../core/errors.js";

/** A `redis://…` argument that is not one. */
export class QueueUrlError extends VmgError {
  static override readonly tag: string = "queue/url";
  constructor(readonly url: string, problem: string) {
    super(`${url}: ${problem}`);
  }
}

/** Redis unreachable, or a store's queue in a state the command cannot use. */
export class QueueError extends VmgError {
  static override readonly tag: string = "queue/state";
  constructor(readonly where: string, problem: string, options?: { cause?: unknown }) {
    super(`${where}: ${problem}`, options);
  }
}

registerErrorClasses(QueueUrlError, QueueError);
