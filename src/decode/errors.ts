import { registerErrorClasses, VmgError } from "../core/errors.js";

/** A chunk request outside the volume (or not a valid box) at the requested scale. */
export class ChunkRangeError extends VmgError {
  static override readonly tag: string = "decode/chunk-range";
}
registerErrorClasses(ChunkRangeError);
