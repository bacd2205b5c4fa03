import { describe, expect, test } from "bun:test";
import type { Plan } from "../../../src/shared/protocol/api.ts";
import {
  choiceOf,
  DEFAULT_SCHEDULE,
  describeRetention,
  formatRunTime,
  nextRunByRepository,
  nextRunLabel,
  retentionInput,
  retentionOf,
  scheduleOf,
} from "../../../src/ui/plan-form.ts";

describe("schedule presets", () => {
  test("each preset writes its cron expression, and reads it back", () => {
    const cases = [
      [{ ...DEFAULT_SCHEDULE, preset: "hourly", minute: "15" }, "15 * * * *"],
      [{ ...DEFAULT_SCHEDULE, preset: "daily", time: "02:00" }, "0 2 * * *"],
      [{ ...DEFAULT_SCHEDULE, preset: "weekly", time: "23:45", weekday: "6" }, "45 23 * * 6"],
      [{ ...DEFAULT_SCHEDULE, preset: "custom", cron: "  */5  * * * * * " }, "*/5 * * * * *"],
    ] as const;
    for (const [choice, cron] of cases) {
      expect(scheduleOf(choice)).toEqual({ ok: true, value: cron });
      const back = choiceOf(cron);
      expect(back.preset).toBe(choice.preset);
      expect(scheduleOf(back)).toEqual({ ok: true, value: cron });
    }
    // Anything but a preset's exact shape is custom, kept as written.
    expect(choiceOf("0 2 * * 1-5")).toMatchObject({ preset: "custom", cron: "0 2 * * 1-5" });
    expect(choiceOf("@daily")).toMatchObject({ preset: "custom", cron: "@daily" });
  });

  test("bad input names the field", () => {
    expect(scheduleOf({ ...DEFAULT_SCHEDULE, preset: "hourly", minute: "60" })).toMatchObject({
      ok: false,
      error: expect.stringContaining("minute"),
    });
    expect(scheduleOf({ ...DEFAULT_SCHEDULE, preset: "daily", time: "25:00" })).toMatchObject({
      ok: false,
      error: expect.stringContaining("time"),
    });
    expect(scheduleOf({ ...DEFAULT_SCHEDULE, preset: "custom", cron: " " })).toMatchObject({
      ok: false,
      error: expect.stringContaining("schedule"),
    });
  });
});

describe("retention", () => {
  test("typed values become a retention (empty and 0 are no rule; none at all is null)", () => {
    expect(
      retentionOf({ keep_daily: "7", keep_weekly: " 4 ", keep_monthly: "", keep_yearly: "0" }),
    ).toEqual({
      ok: true,
      value: { keep_daily: 7, keep_weekly: 4 },
    });
    expect(retentionOf({})).toEqual({ ok: true, value: null });
    expect(retentionOf({ keep_daily: "seven" })).toMatchObject({ ok: false });
    expect(retentionOf({ keep_within: "7 days" })).toMatchObject({ ok: false });
    expect(retentionInput({ keep_last: 3, keep_within: "2d" })).toEqual({
      keep_last: "3",
      keep_within: "2d",
    });
  });

  test("one line says what is kept", () => {
    expect(describeRetention({ keep_daily: 7, keep_weekly: 4, keep_monthly: 12 })).toBe(
      "Keeps the last archive of each of 7 days, 4 weeks and 12 months; this plan's other archives are deleted after each backup.",
    );
    expect(describeRetention({ keep_within: "2d", keep_last: 1 }, false)).toBe(
      "Keeps every archive of the last 2 days; the newest archive (pruning after backups is off).",
    );
    expect(describeRetention(null)).toBe("No retention: every archive of this plan is kept.");
  });
});

describe("next runs", () => {
  const plan = (repository_id: number, next_run_at: string | null) =>
    ({ repository_id, next_run_at }) as Plan;

  test("a due time in the plan's own timezone", () => {
    expect(formatRunTime("2025-03-30T01:00:00.000Z", "Europe/Berlin")).toBe(
      "Sun, 30 Mar 2025, 03:00",
    );
    expect(formatRunTime("2025-03-30T01:00:05.000Z", "UTC")).toBe("Sun, 30 Mar 2025, 01:00:05");
  });

  test("each repository's soonest run; disabled plans only, or none", () => {
    const runs = nextRunByRepository([
      plan(1, "2025-06-02T00:00:00.000Z"),
      plan(1, "2025-06-01T13:00:00.000Z"),
      plan(2, null),
    ]);
    expect(runs.get(1)).toBe("2025-06-01T13:00:00.000Z");
    const now = Date.parse("2025-06-01T12:00:00Z");
    expect(nextRunLabel(runs.get(1), now)).toBe("in 1h");
    expect(nextRunLabel(runs.get(2), now)).toBe("plans disabled");
    expect(nextRunLabel(runs.get(3), now)).toBe("no plan");
  });
});
