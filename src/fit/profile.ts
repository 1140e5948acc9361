/**
 * Wall time per phase of a fit, for the profiler (bench/fit-profile.ts). A fit given no PhaseTimes
 * reads no clock, so timing costs nothing unless asked for.
 */
export class PhaseTimes {
  /** Milliseconds per phase, in the order phases first ran. */
  readonly ms = new Map<string, number>();

  /** Add the time since `since` (a performance.now() reading) to `phase`; returns now. */
  lap(phase: string, since: number): number {
    const now = performance.now();
    this.ms.set(phase, (this.ms.get(phase) ?? 0) + (now - since));
    return now;
  }
}

/** performance.now() when timing, else 0 (no clock read). */
export function clock(times: PhaseTimes | undefined): number {
  return times ? performance.now() : 0;
}
