import { describe, expect, test } from "bun:test";
import { formatBytes, formatDuration, progressLine } from "../../../src/cli/progress-line.ts";

describe("progress line", () => {
  test("bytes and durations read like a person writes them", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GiB");
    expect(formatDuration(42)).toBe("42s");
    expect(formatDuration(65)).toBe("1m05s");
    expect(formatDuration(3 * 3600 + 120)).toBe("3h02m");
  });

  test("known percent with ETA; unknown percent shows … and no ETA; long lines are cut", () => {
    expect(
      progressLine({
        progress_percent: 42.13,
        original_size: 2048,
        nfiles: 3,
        backup_speed: 1024,
        estimated_time_remaining: 90,
        current_file: "home/a.txt",
      }),
    ).toBe("42.1%  2.0 KiB  3 files  1.0 KiB/s  ETA 1m30s  home/a.txt");
    expect(
      progressLine({
        progress_percent: null,
        original_size: 10,
        estimated_time_remaining: null,
        phase: "backing up",
      }),
    ).toBe("…  10 B  backing up");
    expect(progressLine({ current_file: "x".repeat(200) }, 40)).toHaveLength(40);
  });
});
