// `node scripts/peak-rss.mjs <vmg arguments…>`: runs the vmg command in this process (bin/vmg.mjs)
// and prints its peak resident memory, worker threads included, as one last stderr line
// `peak_rss_mb <MB>` (getrusage's maxrss). For memory figures (bench:scale, issue #15).
process.argv = [process.argv[0], new URL("../bin/vmg.mjs", import.meta.url).pathname, ...process.argv.slice(2)];
process.on("exit", () => process.stderr.write(`peak_rss_mb ${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`));
await import("../bin/vmg.mjs");
