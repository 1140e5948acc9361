// Preloaded into a benchmarked `vmg` process (node --import): at exit it writes the process's peak
// resident set (KiB) and CPU time (µs, user + system) from process.resourceUsage() — worker threads
// included, as they share the process — to the file named by VMG_RSS_FILE, as JSON.
import { writeFileSync } from "node:fs";

const file = process.env.VMG_RSS_FILE;
if (file) {
  process.on("exit", () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRSS: u.maxRSS, cpu: u.userCPUTime + u.systemCPUTime }));
  });
}
