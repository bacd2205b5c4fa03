/**
 * Turns borg's archive_progress events (about five a second) into the progress the hub
 * shows: at most one report per interval, speed as the byte rate over a sliding window,
 * and a percent and ETA only when a pre-scan gave an expected total. Without one the
 * percent is null (an indeterminate bar), never a 0% that seems stuck.
 */
import type { ArchiveProgressEvent } from "../borg/output.ts";
import type { ProgressRequest } from "../shared/protocol/agent.ts";

export interface ProgressTrackerOptions {
  /** Bytes the sources are expected to hold (from a pre-scan), if known at the start. */
  expectedBytes?: number;
  intervalMs?: number;
  speedWindowMs?: number;
  now?: () => number;
}

interface Sample {
  at: number;
  bytes: number;
}

/** A percent never reaches 100 before borg says it finished: the estimate may be short. */
const MAX_RUNNING_PERCENT = 99;

export class ProgressTracker {
  private readonly samples: Sample[] = [];
  private lastReportAt = Number.NEGATIVE_INFINITY;
  private latest: ProgressRequest = {};
  private readonly intervalMs: number;
  private readonly speedWindowMs: number;
  private readonly now: () => number;
  private expectedBytes: number | undefined;

  constructor(options: ProgressTrackerOptions = {}) {
    this.expectedBytes = options.expectedBytes;
    this.intervalMs = options.intervalMs ?? 1_000;
    this.speedWindowMs = options.speedWindowMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Feeds one event; returns a report when one is due (first event, then ≤ 1 per interval). */
  update(event: ArchiveProgressEvent, phase = "backing up"): ProgressRequest | undefined {
    const at = this.now();
    if (event.finished) {
      this.latest = {
        ...this.latest,
        progress_percent: 100,
        estimated_time_remaining: 0,
        current_file: null,
        phase: "finishing",
      };
      this.lastReportAt = at;
      return this.latest;
    }
    const bytes = event.original_size ?? this.latest.original_size ?? 0;
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && (this.samples[0] as Sample).at < at - this.speedWindowMs)
      this.samples.shift();
    const first = this.samples[0] as Sample;
    const seconds = (at - first.at) / 1000;
    const speed =
      seconds > 0 ? Math.max(0, (bytes - first.bytes) / seconds) : (this.latest.backup_speed ?? 0);
    const expected = this.expectedBytes;
    const percent =
      expected !== undefined && expected > 0
        ? Math.min(MAX_RUNNING_PERCENT, (bytes / expected) * 100)
        : null;
    const eta =
      expected !== undefined && percent !== null && speed > 0
        ? Math.max(0, (expected - bytes) / speed)
        : null;
    this.latest = {
      progress_percent: percent === null ? null : Math.round(percent * 10) / 10,
      current_file: event.path ?? this.latest.current_file ?? null,
      original_size: bytes,
      compressed_size: event.compressed_size ?? this.latest.compressed_size,
      deduplicated_size: event.deduplicated_size ?? this.latest.deduplicated_size,
      nfiles: event.nfiles ?? this.latest.nfiles,
      backup_speed: Math.round(speed),
      estimated_time_remaining: eta === null ? null : Math.round(eta),
      phase,
    };
    if (at - this.lastReportAt < this.intervalMs) return undefined;
    this.lastReportAt = at;
    return this.latest;
  }

  /** The pre-scan's total once it is known (it runs beside borg); undefined: none. */
  expectTotal(bytes: number | undefined): void {
    this.expectedBytes = bytes;
  }

  /** The newest state, whether or not it was reported (for a final report). */
  current(): ProgressRequest {
    return this.latest;
  }
}
