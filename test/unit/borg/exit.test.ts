import { describe, expect, test } from "bun:test";
import { classifyExit } from "../../../src/borg/exit.ts";

describe("classifyExit", () => {
  test.each([
    [0, null, "ok"],
    [1, null, "warning"],
    [2, null, "error"],
    [3, null, "error"],
    [73, null, "error"], // modern: lock timeout range
    [99, null, "error"],
    [100, null, "warning"],
    [107, null, "warning"],
    [127, null, "warning"],
    [130, null, "error"], // 128 + SIGINT, not requested by us
    [137, null, "error"], // 128 + SIGKILL
    [255, null, "error"],
    [256, null, "error"],
    [-1, null, "error"],
    [null, "SIGKILL", "error"],
    [null, null, "error"],
  ] as const)("exit %p signal %p → %s", (code, signal, expected) => {
    expect(classifyExit(code, signal)).toBe(expected);
  });

  test.each([
    [2, null, "canceled"], // borg's answer to SIGINT (1.2.4 fixture create-sigint.rc)
    [130, null, "canceled"],
    [null, "SIGTERM", "canceled"],
    [null, "SIGKILL", "canceled"],
    [null, null, "canceled"], // never started: the signal was already aborted
    [75, null, "canceled"],
    [0, null, "ok"], // finished before the cancel took effect
    [1, null, "warning"],
    [105, null, "warning"],
  ] as const)("canceled: exit %p signal %p → %s", (code, signal, expected) => {
    expect(classifyExit(code, signal, { canceled: true })).toBe(expected);
  });
});
