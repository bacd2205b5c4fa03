import { describe, expect, test } from "bun:test";
import { backoffDelay } from "../../../src/agent/backoff.ts";

describe("backoffDelay", () => {
  test("grows exponentially up to the cap, scaled by the jitter", () => {
    const top = () => 0.999_999;
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 50].map((a) =>
      backoffDelay(a, { baseMs: 1000, maxMs: 60_000, random: top }),
    );
    expect(ceilings).toEqual([999, 1999, 3999, 7999, 15_999, 31_999, 59_999, 59_999, 59_999]);
    expect(backoffDelay(3, { random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { baseMs: 1000, random: () => 0.5 })).toBe(4000);
  });

  test("real jitter spreads a fleet out", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(6)));
    expect(delays.size).toBeGreaterThan(40);
    for (const d of delays) expect(d).toBeLessThan(60_000);
  });
});
