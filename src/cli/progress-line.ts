/** One terminal line for a job's progress: "42.1%  1.2 GiB  310 files  12.3 MiB/s  ETA 1m05s  path". */
import type { ProgressRequest } from "../shared/protocol/agent.ts";

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export function progressLine(p: ProgressRequest, width = 100): string {
  const parts = [
    p.progress_percent === null || p.progress_percent === undefined
      ? "…"
      : `${p.progress_percent.toFixed(1)}%`,
    p.original_size !== undefined ? formatBytes(p.original_size) : undefined,
    p.nfiles !== undefined ? `${p.nfiles} files` : undefined,
    p.backup_speed ? `${formatBytes(p.backup_speed)}/s` : undefined,
    p.estimated_time_remaining !== null && p.estimated_time_remaining !== undefined
      ? `ETA ${formatDuration(p.estimated_time_remaining)}`
      : undefined,
    p.current_file ?? p.phase,
  ].filter(Boolean);
  const line = parts.join("  ");
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}
