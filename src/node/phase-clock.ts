/**
 * Time and CPU per phase of a run, to tell the serial parts from the parallel ones: wall seconds,
 * the process's CPU seconds (every thread) and the calling thread's own (Linux: /proc/thread-self;
 * elsewhere absent). A phase whose CPU is all the calling thread's does not scale with threads.
 */
import { readFileSync } from "node:fs";

export interface PhaseTime {
  phase: string;
  wall_s: number;
  /** CPU seconds of the whole process (worker threads included). */
  cpu_s: number;
  /** CPU seconds of the thread that ran the phase (the coordinator's main thread); null where unknown. */
  main_cpu_s: number | null;
}

/** Clock ticks per second of /proc's stat fields (USER_HZ, 100 on every Linux that Node supports). */
const USER_HZ = 100;

/** CPU seconds of the calling thread, or null where /proc/thread-self is not there. */
export function threadCpuSeconds(): number | null {
  try {
    const stat = readFileSync("/proc/thread-self/stat", "utf8");
    // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / USER_HZ;
  } catch {
    return null;
  }
}

function processCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export class PhaseClock {
  readonly phases: PhaseTime[] = [];

  /** Runs `f` as the phase `name` and records its figures (a phase may be timed in several parts: they add up). */
  async time<T>(name: string, f: () => Promise<T>): Promise<T> {
    const wall = performance.now(), cpu = processCpuSeconds(), main = threadCpuSeconds();
    try {
      return await f();
    } finally {
      const mainNow = threadCpuSeconds();
      this.add({ phase: name, wall_s: (performance.now() - wall) / 1000, cpu_s: processCpuSeconds() - cpu, main_cpu_s: main === null || mainNow === null ? null : mainNow - main });
    }
  }

  private add(t: PhaseTime): void {
    const at = this.phases.find((p) => p.phase === t.phase);
    if (!at) { this.phases.push(t); return; }
    at.wall_s += t.wall_s; at.cpu_s += t.cpu_s;
    at.main_cpu_s = at.main_cpu_s === null || t.main_cpu_s === null ? null : at.main_cpu_s + t.main_cpu_s;
  }
}
