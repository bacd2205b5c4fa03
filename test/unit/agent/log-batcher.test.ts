import { describe, expect, test } from "bun:test";
import { LogBatcher } from "../../../src/agent/log-batcher.ts";
import type { LogEntry } from "../../../src/shared/protocol/agent.ts";

function collect(
  options: {
    maxLines?: number;
    maxChars?: number;
    maxDelayMs?: number;
    firstSequence?: number;
  } = {},
) {
  const batches: LogEntry[][] = [];
  const batcher = new LogBatcher({
    deliver: async (entries) => {
      batches.push(entries);
    },
    redact: (text) => text.replaceAll("hunter2", "[redacted]"),
    ...options,
  });
  return { batcher, batches };
}

describe("LogBatcher", () => {
  test("a full batch leaves at once; the rest on flush; sequences strictly increase", async () => {
    const { batcher, batches } = collect({ maxLines: 3, maxDelayMs: 60_000 });
    for (let i = 0; i < 7; i++) batcher.push("stderr", `line ${i}`);
    await batcher.flush();
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(batches.flat().map((e) => e.sequence)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(batcher.sequence).toBe(7);
  });

  test("long lines leave in batches that stay under the hub's request size limit", async () => {
    const { batcher, batches } = collect({ maxDelayMs: 60_000 });
    // 200 lines of 16 KiB would be a 3 MiB upload; the hub refuses bodies over 1 MiB.
    for (let i = 0; i < 200; i++) batcher.push("stderr", "x".repeat(16 * 1024));
    await batcher.flush();
    expect(batches.flat()).toHaveLength(200);
    for (const batch of batches) {
      expect(new TextEncoder().encode(JSON.stringify({ entries: batch })).length).toBeLessThan(
        1024 * 1024,
      );
    }
  });

  test("a partial batch leaves after the delay without a flush", async () => {
    const { batcher, batches } = collect({ maxDelayMs: 20 });
    batcher.push("stdout", "only line");
    expect(batches).toHaveLength(0);
    await Bun.sleep(60);
    expect(batches).toEqual([
      [expect.objectContaining({ sequence: 0, stream: "stdout", message: "only line" })],
    ]);
  });

  test("secrets are redacted before queueing; huge lines are cut; sequences can resume", async () => {
    const { batcher, batches } = collect({ firstSequence: 41 });
    batcher.push("stderr", "passphrase hunter2 rejected");
    batcher.push("stderr", "x".repeat(20_000));
    await batcher.flush();
    const [first, second] = batches.flat();
    expect(first).toMatchObject({ sequence: 41, message: "passphrase [redacted] rejected" });
    expect(second?.message.length).toBeLessThanOrEqual(16 * 1024);
    expect(second?.message.endsWith("[line cut]")).toBe(true);
  });

  test("batches are delivered one after another, in order, even when delivery is slow", async () => {
    const order: number[] = [];
    let active = 0;
    const batcher = new LogBatcher({
      maxLines: 1,
      redact: (t) => t,
      deliver: async (entries) => {
        active++;
        expect(active).toBe(1);
        await Bun.sleep(5);
        order.push(entries[0]?.sequence ?? -1);
        active--;
      },
    });
    for (let i = 0; i < 5; i++) batcher.push("stderr", String(i));
    await batcher.flush();
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});
