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

  test("a request that goes away is freed when its agent waits again; an aborted one never waits", async () => {
    const notifier = new InMemoryJobNotifier();
    const gone = new AbortController();
    const abandoned = notifier.wait(1, 30_000, gone.signal);
    const other = notifier.wait(2, 30_000, new AbortController().signal);
    gone.abort();
    expect(notifier.waiting).toBe(2); // nothing scans: it ends at its deadline, or …
    const again = notifier.wait(1, 30_000); // … when the agent polls anew
    expect(await abandoned).toBe(false);
    expect(notifier.waiting).toBe(2);
    notifier.notify(1);
    expect(await again).toBe(true); // the new wait is the agent's only one
    expect(notifier.waiting).toBe(1);
    expect(await notifier.wait(1, 30_000, gone.signal)).toBe(false);
    notifier.notify(2);
    expect(await other).toBe(true);
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
    expect(notifier.knownNone(1, "queued")).toBe(false); // nothing known at start
    expect(notifier.recordNone(1, "queued", notifier.lookupTicket(1))).toBe(true);
    expect(notifier.knownNone(1, "queued")).toBe(true);
    expect(notifier.knownNone(2, "queued")).toBe(false);
    notifier.notify(1);
    expect(notifier.knownNone(1, "queued")).toBe(false);
  });

  test("a notify during the lookup keeps its empty answer from being recorded", () => {
    const notifier = new InMemoryJobNotifier();
    const ticket = notifier.lookupTicket(1);
    notifier.notify(1); // a job queued while the lookup ran
    expect(notifier.recordNone(1, "queued", ticket)).toBe(false);
    expect(notifier.knownNone(1, "queued")).toBe(false);
    // Another agent's notify does not spoil this one's lookup.
    const next = notifier.lookupTicket(1);
    notifier.notify(2);
    expect(notifier.recordNone(1, "queued", next)).toBe(true);
  });

  test("notifyAll forgets every agent, and lookups begun before it", () => {
    const notifier = new InMemoryJobNotifier();
    notifier.recordNone(1, "queued", notifier.lookupTicket(1));
    const inFlight = notifier.lookupTicket(2);
    notifier.notifyAll();
    expect(notifier.knownNone(1, "queued")).toBe(false);
    expect(notifier.recordNone(2, "queued", inFlight)).toBe(false);
  });

  test("idleness is trusted for IDLE_TRUST_MS only", () => {
    let now = 1_000;
    const notifier = new InMemoryJobNotifier(() => now);
    notifier.recordNone(1, "queued", notifier.lookupTicket(1));
    now += IDLE_TRUST_MS - 1;
    expect(notifier.knownNone(1, "queued")).toBe(true);
    now += 1;
    expect(notifier.knownNone(1, "queued")).toBe(false);
  });

  test("noneLongerThan lists the agents due for confirmation; recordNone renews one", () => {
    let now = 1_000;
    const notifier = new InMemoryJobNotifier(() => now);
    notifier.recordNone(1, "queued", notifier.lookupTicket(1));
    now += 20_000;
    notifier.recordNone(2, "queued", notifier.lookupTicket(2));
    expect(notifier.noneLongerThan("queued", 20_000)).toEqual([1]);
    notifier.recordNone(1, "queued", notifier.lookupTicket(1));
    expect(notifier.noneLongerThan("queued", 20_000)).toEqual([]);
    notifier.notify(2);
    expect(notifier.noneLongerThan("queued", 0)).toEqual([1]);
  });

  test("each watched status is known apart; a notify forgets both", () => {
    const notifier = new InMemoryJobNotifier();
    notifier.recordNone(1, "cancel_requested", notifier.lookupTicket(1));
    expect(notifier.knownNone(1, "cancel_requested")).toBe(true);
    expect(notifier.knownNone(1, "queued")).toBe(false);
    notifier.recordNone(1, "queued", notifier.lookupTicket(1));
    notifier.notify(1);
    expect(notifier.knownNone(1, "cancel_requested")).toBe(false);
    expect(notifier.knownNone(1, "queued")).toBe(false);
    const ticket = notifier.lookupTicket(1);
    notifier.notify(1); // a cancel request landing while its lookup ran
    expect(notifier.recordNone(1, "cancel_requested", ticket)).toBe(false);
  });
});

describe("InMemoryJobNotifier: deadlines", () => {
  test("waits end in deadline order, whatever order they began in", async () => {
    const notifier = new InMemoryJobNotifier();
    const ended: number[] = [];
    const waits = [300, 60, 180, 120, 240].map((ms) =>
      notifier.wait(ms, ms).then((woken) => {
        expect(woken).toBe(false);
        ended.push(ms);
      }),
    );
    await Promise.all(waits);
    expect(ended).toEqual([60, 120, 180, 240, 300]);
    expect(notifier.waiting).toBe(0);
  });

  test("a woken wait's deadline does not end a later wait of the same agent early", async () => {
    const notifier = new InMemoryJobNotifier();
    const first = notifier.wait(1, 50);
    notifier.notify(1);
    expect(await first).toBe(true);
    const second = notifier.wait(1, 60_000);
    await Bun.sleep(100); // well past the first wait's deadline
    expect(notifier.waiting).toBe(1);
    notifier.notify(1);
    expect(await second).toBe(true);
  });

  test("many waits: each is answered once, by its deadline or its notify", async () => {
    const notifier = new InMemoryJobNotifier();
    const answers = new Map<number, boolean[]>();
    const all = Array.from({ length: 2000 }, (_, agent) =>
      notifier.wait(agent, 20 + (agent % 7) * 10).then((woken) => {
        answers.set(agent, [...(answers.get(agent) ?? []), woken]);
      }),
    );
    for (let agent = 0; agent < 2000; agent += 3) notifier.notify(agent);
    await Promise.all(all);
    expect(answers.size).toBe(2000);
    for (const [agent, got] of answers) expect(got).toEqual([agent % 3 === 0]);
    expect(notifier.waiting).toBe(0);
  });
});
