/**
 * Formatting for the UI: sizes, speeds, durations, ages, statuses. Pure (the current
 * time is passed in), so the tests pin every output.
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * 1536 → "1.5 KiB": powers of 1024 with their IEC names (borg 1.x prints powers of 1000
 * as kB/MB, so a size here may read smaller than borg's own line); one decimal below 10.
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "–";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export function formatSpeed(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond === null || bytesPerSecond === undefined) return "–";
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** 3725 → "1h 2m"; 75 → "1m 15s"; 9 → "9s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return "–";
  }
  const s = Math.round(seconds);
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return minutes > 0 ? `${hours}h ${minutes}m` : `${hours}h`;
  if (minutes > 0) return rest > 0 ? `${minutes}m ${rest}s` : `${minutes}m`;
  return `${rest}s`;
}

/** How long ago an RFC 3339 time was: "just now", "5m ago", "3d ago", or "never". */
export function formatAge(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return "never";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return "–";
  const seconds = (nowMs - at) / 1000;
  if (seconds < 10) return "just now";
  return `${formatDuration(seconds)} ago`;
}

/** Seconds between two RFC 3339 times (end defaults to now), or null when not started. */
export function elapsedSeconds(
  start: string | null | undefined,
  end: string | null | undefined,
  nowMs: number,
): number | null {
  if (!start) return null;
  const from = Date.parse(start);
  const to = end ? Date.parse(end) : nowMs;
  if (Number.isNaN(from) || Number.isNaN(to)) return null;
  return Math.max(0, (to - from) / 1000);
}

/** "completed_with_warnings" → "completed with warnings". */
export function humanize(value: string): string {
  return value.replaceAll("_", " ").replaceAll(".", " ");
}

const JOB_KIND_LABELS: Record<string, string> = {
  "repo.init": "Initialize",
  "backup.create": "Backup",
  "repo.prune": "Prune",
  "repo.compact": "Compact",
  "repo.check": "Check",
  "repo.break_lock": "Break lock",
  "archive.list": "List archives",
  "repo.info": "Repository info",
  "archive.browse": "Browse archive",
  "archive.extract": "Restore",
};

export function jobKindLabel(kind: string): string {
  return JOB_KIND_LABELS[kind] ?? humanize(kind);
}

export type Tone = "ok" | "warn" | "bad" | "busy" | "muted";

/** The colour family of a machine or job status. */
export function statusTone(status: string): Tone {
  switch (status) {
    case "online":
    case "completed":
    case "success":
      return "ok";
    case "completed_with_warnings":
    case "warning":
    case "pending":
    case "cancel_requested":
      return "warn";
    case "offline":
    case "failed":
    case "revoked":
      return "bad";
    case "queued":
    case "claimed":
    case "running":
      return "busy";
    default:
      return "muted";
  }
}
