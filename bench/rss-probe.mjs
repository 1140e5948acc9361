// Preloaded into a benchmarked `vmg` process (node --import): at exit it writes the process's peak
// resident set (KiB) and CPU time (µs, user + system) from process.resourceUsage() — worker threads
// included, as they share the process — and the main thread's own CPU time (µs, from
// /proc/thread-self/stat; null where there is none) to the file named by VMG_RSS_FILE, as JSON.
import { readFileSync, writeFileSync } from "node:fs";

const file = process.env.VMG_RSS_FILE;

function mainThreadCpu() {
  try {
    const stat = readFileSync("/proc/thread-self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) / 100) * 1e6; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return null;
  }
}

if (file) {
  process.on("exit", () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRSS: u.maxRSS, cpu: u.userCPUTime + u.systemCPUTime, mainCpu: mainThreadCpu() }));
  });
}
