import { describe, expect, test } from "bun:test";
import { ByteCapture, Tail } from "../../../../src/shared/process/buffers.ts";

describe("ByteCapture", () => {
  test("keeps bytes up to the cap and marks the rest as truncated", () => {
    const capture = new ByteCapture(5);
    capture.add(new TextEncoder().encode("abc"));
    expect(capture.truncated).toBe(false);
    capture.add(new TextEncoder().encode("defgh"));
    expect(capture.text()).toBe("abcde");
    expect(capture.truncated).toBe(true);
  });

  test("a character cut in half at the cap is dropped, not turned into U+FFFD", () => {
    const capture = new ByteCapture(4);
    capture.add(new TextEncoder().encode("abcé"));
    expect(capture.text()).toBe("abc");
  });
});

describe("Tail", () => {
  test("keeps the last N lines, each cut to 4096 characters", () => {
    const tail = new Tail(2);
    for (const line of ["one", "two", "x".repeat(5000)]) tail.add(line);
    const lines = tail.lines();
    expect(lines[0]).toBe("two");
    expect(lines[1]).toHaveLength(4096);
    const none = new Tail(0);
    none.add("ignored");
    expect(none.lines()).toEqual([]);
  });
});
