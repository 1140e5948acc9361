/**
 * Time per phase of a fit, for the profiler (bench/fit-profile.ts). A fit given no PhaseTimes
 * reads no clock, so timing costs nothing unless asked for.
 */
export class PhaseTimes {
  /** Milliseconds per phase, in the order phases first ran. */
  readonly ms = new Map<string, number>();

  /** `now` in milliseconds: wall time by default; a profiler on a shared machine may pass CPU time. */
  constructor(readonly now: () => number = () => performance.now()) {}

  /** Add the time since `since` (a `now()` reading) to `phase`; returns now. */
  lap(phase: string, since: number): number {
    const now = this.now();
    this.ms.set(phase, (this.ms.get(phase) ?? 0) + (now - since));
    return now;
  }
}

/** `times.now()` when timing, else 0 (no clock read). */
export function clock(times: PhaseTimes | undefined): number {
  return times ? times.now() : 0;
}
