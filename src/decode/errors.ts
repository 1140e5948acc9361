/** A chunk request outside the volume (or not a valid box) at the requested scale. */
export class ChunkRangeError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "ChunkRangeError";
  }
}
