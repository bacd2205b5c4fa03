import { describe, expect, test } from "bun:test";
import { stopOnSignals } from "../../../src/shared/lifecycle.ts";
import { createLogger } from "../../../src/shared/log.ts";

describe("stopOnSignals", () => {
  test("a signal or stop() runs the shutdown once and resolves stopped", async () => {
    const lines: string[] = [];
    let runs = 0;
    const handle = stopOnSignals(createLogger({ write: (l) => lines.push(l) }), async () => {
      runs++;
    });
    const before = process.listenerCount("SIGTERM");
    process.emit("SIGTERM", "SIGTERM");
    await handle.stop();
    await handle.stopped;
    expect(runs).toBe(1);
    expect(process.listenerCount("SIGTERM")).toBe(before - 1);
    expect(lines.some((l) => l.includes("received SIGTERM, stopping"))).toBe(true);
    expect(lines.some((l) => l.includes("stopped"))).toBe(true);
  });
});
