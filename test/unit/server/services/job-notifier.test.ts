import { describe, expect, test } from "bun:test";
import {
  IDLE_TRUST_MS,
  InMemoryJobNotifier,
} from "../../../../src/server/services/job-notifier.ts";

describe("InMemoryJobNotifier: waiting", () => {
  test("a notify wakes only that agent's waiters, with true", async () => {
    const notifier = new InMemoryJobNotifier();
    const mine = notifier.wait(1, 30_000);
    const theirs = notifier.wait(2, 300);
    expect(notifier.waiting).toBe(2);
    notifier.notify(1);
    expect(await mine).toBe(true);
    expect(notifier.waiting).toBe(1);
    expect(await theirs).toBe(false); // its time ran out
    expect(notifier.waiting).toBe(0);
  });

  test("a request that goes away frees its waiter; an aborted one never waits", async () => {
    const notifier = new InMemoryJobNotifier();
    const gone = new AbortController();
    const waiting = notifier.wait(1, 30_000, gone.signal);
    gone.abort();
    expect(await waiting).toBe(false);
    expect(notifier.waiting).toBe(0);
    expect(await notifier.wait(1, 30_000, gone.signal)).toBe(false);
    expect(notifier.waiting).toBe(0);
  });

  test("notifyAll wakes everyone", async () => {
    const notifier = new InMemoryJobNotifier();
    const all = [notifier.wait(1, 30_000), notifier.wait(1, 30_000), notifier.wait(7, 30_000)];
    notifier.notifyAll();
    expect(await Promise.all(all)).toEqual([true, true, true]);
    expect(notifier.waiting).toBe(0);
  });
});

describe("InMemoryJobNotifier: idle knowledge", () => {
  test("an empty lookup makes the agent idle until it is notified", () => {
    const notifier = new InMemoryJobNotifier();
    expect(notifier.knownIdle(1)).toBe(false); // nothing known at start
    expect(notifier.recordIdle(1, notifier.lookupTicket(1))).toBe(true);
    expect(notifier.knownIdle(1)).toBe(true);
    expect(notifier.knownIdle(2)).toBe(false);
    notifier.notify(1);
    expect(notifier.knownIdle(1)).toBe(false);
  });

  test("a notify during the lookup keeps its empty answer from being recorded", () => {
    const notifier = new InMemoryJobNotifier();
    const ticket = notifier.lookupTicket(1);
    notifier.notify(1); // a job queued while the lookup ran
    expect(notifier.recordIdle(1, ticket)).toBe(false);
    expect(notifier.knownIdle(1)).toBe(false);
    // Another agent's notify does not spoil this one's lookup.
    const next = notifier.lookupTicket(1);
    notifier.notify(2);
    expect(notifier.recordIdle(1, next)).toBe(true);
  });

  test("notifyAll forgets every agent, and lookups begun before it", () => {
    const notifier = new InMemoryJobNotifier();
    notifier.recordIdle(1, notifier.lookupTicket(1));
    const inFlight = notifier.lookupTicket(2);
    notifier.notifyAll();
    expect(notifier.knownIdle(1)).toBe(false);
    expect(notifier.recordIdle(2, inFlight)).toBe(false);
  });

  test("idleness is trusted for IDLE_TRUST_MS only", () => {
    let now = 1_000;
    const notifier = new InMemoryJobNotifier(() => now);
    notifier.recordIdle(1, notifier.lookupTicket(1));
    now += IDLE_TRUST_MS - 1;
    expect(notifier.knownIdle(1)).toBe(true);
    now += 1;
    expect(notifier.knownIdle(1)).toBe(false);
  });
});
