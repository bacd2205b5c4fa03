import { describe, expect, test } from "bun:test";
import { ProgressTracker } from "../../../src/agent/progress.ts";

const event = (original_size: number, extra: Record<string, unknown> = {}) => ({
  type: "archive_progress" as const,
  original_size,
  compressed_size: Math.floor(original_size / 2),
  deduplicated_size: Math.floor(original_size / 4),
  nfiles: Math.floor(original_size / 100),
  path: `data/file-${original_size}`,
  ...extra,
});

describe("ProgressTracker", () => {
  test("reports the first event, then at most once per interval", () => {
    let now = 0;
    const tracker = new ProgressTracker({ now: () => now });
    const reports = [];
    for (let i = 0; i < 25; i++) {
      now = i * 200; // borg's five events a second
      const report = tracker.update(event(i * 1000));
      if (report) reports.push(report);
    }
    expect(reports).toHaveLength(5); // t = 0, 1, 2, 3, 4 s
    expect(reports[0]?.original_size).toBe(0);
  });

  test("without an expected total the percent is null (indeterminate), with sizes and speed", () => {
    let now = 0;
    const tracker = new ProgressTracker({ now: () => now });
    tracker.update(event(0));
    now = 2000;
    const report = tracker.update(event(4_000_000));
    expect(report).toMatchObject({
      progress_percent: null,
      estimated_time_remaining: null,
      original_size: 4_000_000,
      compressed_size: 2_000_000,
      deduplicated_size: 1_000_000,
      nfiles: 40_000,
      backup_speed: 2_000_000,
      current_file: "data/file-4000000",
    });
  });

  test("a total that arrives later (the pre-scan runs beside borg) gives a percent from then on", () => {
    let now = 0;
    const tracker = new ProgressTracker({ now: () => now });
    expect(tracker.update(event(1_000_000))?.progress_percent).toBeNull();
    tracker.expectTotal(4_000_000);
    now = 1000;
    expect(tracker.update(event(2_000_000))?.progress_percent).toBe(50);
    tracker.expectTotal(undefined); // the scan gave up: indeterminate again
    now = 2000;
    expect(tracker.update(event(3_000_000))?.progress_percent).toBeNull();
  });

  test("with an expected total: percent and ETA from the windowed speed, never 100 before the end", () => {
    let now = 0;
    const tracker = new ProgressTracker({
      now: () => now,
      expectedBytes: 10_000_000,
      speedWindowMs: 5_000,
    });
    tracker.update(event(0));
    now = 1000;
    expect(tracker.update(event(1_000_000))).toMatchObject({
      progress_percent: 10,
      backup_speed: 1_000_000,
      estimated_time_remaining: 9,
    });
    // The window forgets old samples: a slowdown shows within the window.
    for (let s = 2; s <= 10; s++) {
      now = s * 1000;
      tracker.update(event(1_000_000 + (s - 1) * 100_000));
    }
    expect(tracker.current().backup_speed).toBe(100_000);
    now = 11_000;
    expect(tracker.update(event(12_000_000))?.progress_percent).toBe(99);
    expect(tracker.update({ type: "archive_progress", finished: true })).toMatchObject({
      progress_percent: 100,
      estimated_time_remaining: 0,
    });
  });
});
