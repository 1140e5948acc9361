/**
 * Progress bars on stderr: a redrawn bar with ETA on a terminal, a few plain lines otherwise (so
 * logs of scripted runs stay readable). Silent when `quiet`.
 */
export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private lastLoggedDecile = -1;
  private readonly tty: boolean;

  constructor(private readonly label: string, private readonly quiet = false, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  update(fraction: number, detail = ""): void {
    if (this.quiet) return;
    const f = Math.min(1, Math.max(0, fraction));
    const now = performance.now();
    const elapsed = (now - this.start) / 1000;
    const eta = f > 0 ? (elapsed * (1 - f)) / f : NaN;
    if (this.tty) {
      if (now - this.lastDraw < 100 && f < 1) return;
      this.lastDraw = now;
      const width = 28;
      const filled = Math.round(f * width);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      this.stream.write(`\r\x1b[2K${this.label} ${bar} ${(f * 100).toFixed(0).padStart(3)}%  ${formatSeconds(elapsed)} elapsed, ETA ${formatSeconds(eta)}${detail ? "  " + detail : ""}`);
    } else {
      const decile = Math.floor(f * 10);
      if (decile === this.lastLoggedDecile) return;
      this.lastLoggedDecile = decile;
      this.stream.write(`${this.label}: ${(f * 100).toFixed(0)}% (${formatSeconds(elapsed)} elapsed, ETA ${formatSeconds(eta)})${detail ? " " + detail : ""}\n`);
    }
  }

  /** Progress over block jobs: done/total, throughput in MVox/s (the done chunks' voxels) and the ETA. */
  updateBlocks(done: number, total: number, voxels: number): void {
    const seconds = Math.max(1e-3, (performance.now() - this.start) / 1000);
    this.update(total > 0 ? done / total : 1, `${done}/${total} blocks, ${(voxels / 1e6 / seconds).toFixed(3)} MVox/s`);
  }

  done(message = ""): void {
    if (this.quiet) return;
    const elapsed = (performance.now() - this.start) / 1000;
    if (this.tty) this.stream.write("\r\x1b[2K");
    this.stream.write(`${this.label}: done in ${formatSeconds(elapsed)}${message ? " — " + message : ""}\n`);
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "--";
  if (s < 60) return `${s.toFixed(1)}s`;
  const total = Math.round(s);
  const m = Math.floor(total / 60);
  return `${m}m${(total - 60 * m).toString().padStart(2, "0")}s`;
}
