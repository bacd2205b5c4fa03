import { describe, expect, test } from "bun:test";
import {
  elapsedSeconds,
  formatAge,
  formatBytes,
  formatDuration,
  formatSpeed,
  humanize,
  jobKindLabel,
  statusTone,
} from "../../../src/ui/format.ts";

describe("formatBytes", () => {
  test("powers of 1024, one decimal below 10", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(10 * 1024 * 1024)).toBe("10 MiB");
    expect(formatBytes(3.25 * 1024 ** 4)).toBe("3.3 TiB");
  });
  test("unknown or nonsense is a dash", () => {
    expect(formatBytes(null)).toBe("–");
    expect(formatBytes(undefined)).toBe("–");
    expect(formatBytes(-1)).toBe("–");
    expect(formatBytes(Number.NaN)).toBe("–");
  });
  test("speed", () => {
    expect(formatSpeed(2048)).toBe("2.0 KiB/s");
    expect(formatSpeed(null)).toBe("–");
  });
});

describe("formatDuration and formatAge", () => {
  test("the two largest units", () => {
    expect(formatDuration(9)).toBe("9s");
    expect(formatDuration(75)).toBe("1m 15s");
    expect(formatDuration(120)).toBe("2m");
    expect(formatDuration(3725)).toBe("1h 2m");
    expect(formatDuration(2 * 86400 + 3 * 3600)).toBe("2d 3h");
    expect(formatDuration(null)).toBe("–");
  });
  test("ages relative to the given now", () => {
    const now = Date.parse("2025-01-02T00:00:00Z");
    expect(formatAge(null, now)).toBe("never");
    expect(formatAge("2025-01-01T23:59:55Z", now)).toBe("just now");
    expect(formatAge("2025-01-01T23:55:00Z", now)).toBe("5m ago");
    expect(formatAge("2024-12-30T00:00:00Z", now)).toBe("3d ago");
    expect(formatAge("not a time", now)).toBe("–");
  });
  test("elapsed from start to end, or to now while running", () => {
    const now = Date.parse("2025-01-01T00:10:00Z");
    expect(elapsedSeconds(null, null, now)).toBeNull();
    expect(elapsedSeconds("2025-01-01T00:00:00Z", "2025-01-01T00:01:30Z", now)).toBe(90);
    expect(elapsedSeconds("2025-01-01T00:00:00Z", null, now)).toBe(600);
  });
});

describe("labels", () => {
  test("statuses and job kinds read as words", () => {
    expect(humanize("completed_with_warnings")).toBe("completed with warnings");
    expect(jobKindLabel("backup.create")).toBe("Backup");
    expect(jobKindLabel("repo.something_new")).toBe("repo something new");
  });
  test("tones", () => {
    expect(statusTone("online")).toBe("ok");
    expect(statusTone("failed")).toBe("bad");
    expect(statusTone("running")).toBe("busy");
    expect(statusTone("completed_with_warnings")).toBe("warn");
    expect(statusTone("disabled")).toBe("muted");
  });
});
