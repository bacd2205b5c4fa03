import { describe, expect, test } from "bun:test";
import type { PlanRow } from "../../../../src/server/db/records.ts";
import {
  decide,
  nextWakeAt,
  ON_TIME_MS,
  randomDelayMs,
} from "../../../../src/server/services/scheduler.ts";

const T = (iso: string) => Date.parse(iso);
const plan = (overrides: Partial<PlanRow> = {}): PlanRow => ({
  id: 7,
  repositoryId: 1,
  name: "nightly",
  schedule: "0 2 * * *",
  timezone: "UTC",
  enabled: true,
  retention: null,
  pruneAfterBackup: false,
  compactEveryDays: null,
  checkEveryDays: null,
  checkVerifyData: false,
  missedRun: "run_once",
  randomDelaySeconds: 0,
  lastRunAt: null,
  lastJobId: null,
  lastCompactAt: null,
  lastCheckAt: null,
  createdAt: T("2025-06-01T12:00:00Z"),
  updatedAt: T("2025-06-01T12:00:00Z"),
  ...overrides,
});

describe("decide", () => {
  test("waits before the first due time after created_at; runs it on time without a missed record", () => {
    expect(decide(plan(), T("2025-06-02T01:59:59Z"))).toEqual({ kind: "wait" });
    expect(decide(plan(), T("2025-06-02T02:00:30Z"))).toEqual({
      kind: "run",
      due: T("2025-06-02T02:00:00Z"),
      missed: [],
      truncated: false,
    });
  });

  test("a due time at or before last_run_at is not due again (also when the clock went back)", () => {
    const acted = plan({ lastRunAt: T("2025-06-02T02:00:00Z") });
    expect(decide(acted, T("2025-06-02T02:00:30Z"))).toEqual({ kind: "wait" });
    expect(decide(acted, T("2025-06-01T23:00:00Z"))).toEqual({ kind: "wait" });
  });

  test("late due times: run_once runs the newest and lists all; skip claims without a run", () => {
    const now = T("2025-06-04T09:00:00Z");
    const missed = [
      T("2025-06-02T02:00:00Z"),
      T("2025-06-03T02:00:00Z"),
      T("2025-06-04T02:00:00Z"),
    ];
    expect(decide(plan(), now)).toEqual({
      kind: "run",
      due: T("2025-06-04T02:00:00Z"),
      missed,
      truncated: false,
    });
    expect(decide(plan({ missedRun: "skip" }), now)).toEqual({
      kind: "skip",
      due: T("2025-06-04T02:00:00Z"),
      missed,
      truncated: false,
    });
  });

  test("just inside ON_TIME_MS is on time; just past it is missed", () => {
    const due = T("2025-06-02T02:00:00Z");
    expect(decide(plan({ missedRun: "skip" }), due + ON_TIME_MS).kind).toBe("run");
    expect(decide(plan({ missedRun: "skip" }), due + ON_TIME_MS + 1).kind).toBe("skip");
  });

  test("a disabled plan waits", () => {
    expect(decide(plan({ enabled: false }), T("2025-06-09T00:00:00Z"))).toEqual({ kind: "wait" });
  });

  test("the random delay is the same for a plan and due time, within the plan's bound", () => {
    const due = T("2025-06-02T02:00:00Z");
    const p = { id: 7, randomDelaySeconds: 600 };
    expect(randomDelayMs(p, due)).toBe(randomDelayMs(p, due));
    const delays = Array.from({ length: 50 }, (_, i) => randomDelayMs(p, due + i * 86_400_000));
    expect(delays.every((d) => d >= 0 && d <= 600_000 && d % 1000 === 0)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(10);
    expect(randomDelayMs({ id: 7, randomDelaySeconds: 0 }, due)).toBe(0);
    const delayed = plan({ randomDelaySeconds: 600 });
    const wait = randomDelayMs(delayed, due);
    expect(decide(delayed, due + wait - 1).kind).toBe("wait");
    expect(decide(delayed, due + wait)).toMatchObject({ kind: "run", due, missed: [] });
  });
});

describe("nextWakeAt", () => {
  test("the soonest coming due time of the enabled plans", () => {
    const now = T("2025-06-02T01:00:00Z");
    expect(
      nextWakeAt(
        [
          plan({ id: 1, schedule: "0 2 * * *" }),
          plan({ id: 2, schedule: "30 1 * * *" }),
          plan({ id: 3, schedule: "* * * * *", enabled: false }),
        ],
        now,
      ),
    ).toBe(T("2025-06-02T01:30:00Z"));
    expect(nextWakeAt([plan({ enabled: false })], now)).toBeUndefined();
  });

  test("a due time still waiting for its random delay is the next wake-up", () => {
    const delayed = plan({ randomDelaySeconds: 3600 });
    const due = T("2025-06-02T02:00:00Z");
    const wait = randomDelayMs(delayed, due);
    expect(wait).toBeGreaterThan(0); // derived from plan and time: the same on every run
    expect(nextWakeAt([delayed], due + 1)).toBe(due + wait);
    // Once acted on, the next day's due time (and its delay) is next.
    const next = T("2025-06-03T02:00:00Z");
    expect(nextWakeAt([{ ...delayed, lastRunAt: due }], due + 1)).toBe(
      next + randomDelayMs(delayed, next),
    );
  });
});
