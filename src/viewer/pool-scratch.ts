/**
 * Pool worker: one field buffer for the CPU decodes it runs one after another, grown to the
 * largest box seen, instead of a fresh Float32Array (1 MB for a 64³ chunk) allocated, zeroed and
 * collected per chunk. The decoded values are transferred to the caller, so they stay per chunk.
 */
let buffer = new Float32Array(0);

/** A field buffer of at least `voxels` values, valid until the next call. */
export function poolScratch(voxels: number): Float32Array {
  if (buffer.length < voxels) buffer = new Float32Array(voxels);
  return buffer;
}
