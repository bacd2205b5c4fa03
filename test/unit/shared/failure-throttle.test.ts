import { describe, expect, test } from "bun:test";
import { FailureThrottle } from "../../../src/shared/failure-throttle.ts";

describe("FailureThrottle", () => {
  test("free failures, then doubling delays up to the cap", () => {
    const throttle = new FailureThrottle({
      freeFailures: 2,
      baseDelayMs: 100,
      maxDelayMs: 500,
      now: () => 0,
    });
    const delays = Array.from({ length: 7 }, () => throttle.recordFailure("10.0.0.1"));
    expect(delays).toEqual([0, 0, 100, 200, 400, 500, 500]);
    expect(throttle.recordFailure("10.0.0.2")).toBe(0);
  });

  test("success and a quiet window reset the count", () => {
    let now = 0;
    const throttle = new FailureThrottle({
      freeFailures: 1,
      baseDelayMs: 100,
      windowMs: 1000,
      now: () => now,
    });
    throttle.recordFailure("a");
    expect(throttle.recordFailure("a")).toBe(100);
    throttle.recordSuccess("a");
    expect(throttle.recordFailure("a")).toBe(0);
    now = 5000;
    expect(throttle.recordFailure("a")).toBe(0);
  });

  test("remembers at most maxKeys addresses", () => {
    const throttle = new FailureThrottle({ maxKeys: 3, now: () => 0 });
    for (const key of ["a", "b", "c", "d", "e"]) throttle.recordFailure(key);
    expect(throttle.trackedKeys).toBe(3);
  });
});
