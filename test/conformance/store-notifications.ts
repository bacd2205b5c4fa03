/**
 * The NotificationStore part of the Store conformance suite (store.ts calls it inside
 * its describe, with its own `fresh` and `connections`): channels read back as written,
 * names unique, the cooldown taken once per window (also by racing connections), outbox
 * claims with one winner per row across connections, an expired claim taken over and the
 * old claimer's attempt refused, attempts recorded in order, newest-first paging.
 */
import { describe, expect, test } from "bun:test";
import type { NewNotificationChannel } from "../../src/server/db/records.ts";
import type { Store } from "../../src/server/db/store.ts";

const T0 = 1_750_000_000_000;

const channel = (name: string): NewNotificationChannel => ({
  name,
  type: "webhook",
  config: { url: "https://hooks.example.com/borg" },
  sealedSecret: "v1:sealed",
  events: ["job.failed", "repository.overdue"],
  enabled: true,
  cooldownSeconds: 3600,
});

const message = (summary: string) => ({
  event: "job.failed",
  occurred_at: new Date(T0).toISOString(),
  summary,
  url: "https://hub.example.com/jobs/1",
  job: { id: 1, kind: "backup.create", status: "failed", error_message: "exit 2" },
});

async function addChannel(store: Store, name = "ops"): Promise<number> {
  const row = await store.notifications.insertChannel(channel(name), T0);
  if (!row) throw new Error(`channel ${name} exists`);
  return row.id;
}

export function notificationConformance(
  fresh: () => Promise<Store>,
  connections: (count: number) => Promise<Store[]>,
): void {
  describe("notifications", () => {
    test("channels read back as written; names are unique; patches and deletes", async () => {
      const store = await fresh();
      const id = await addChannel(store);
      expect(await store.notifications.channelById(id)).toEqual({
        id,
        ...channel("ops"),
        createdAt: T0,
        updatedAt: T0,
      });
      expect(await store.notifications.insertChannel(channel("ops"), T0)).toBeUndefined();
      const other = await addChannel(store, "other");
      expect(await store.notifications.updateChannel(other, { name: "ops" }, T0 + 1)).toBe(
        "name_taken",
      );
      const changed = await store.notifications.updateChannel(
        id,
        { enabled: false, events: ["machine.offline"], sealedSecret: null },
        T0 + 5,
      );
      expect(changed).toMatchObject({
        enabled: false,
        events: ["machine.offline"],
        sealedSecret: null,
        updatedAt: T0 + 5,
      });
      expect(await store.notifications.updateChannel(9999, { enabled: true }, T0)).toBeUndefined();
      expect((await store.notifications.listChannels()).map((c) => c.name)).toEqual([
        "ops",
        "other",
      ]);
      const delivery = await store.notifications.insertDelivery(
        { channelId: id, event: "job.failed", message: message("x"), nextAttemptAt: T0 },
        T0,
      );
      expect(await store.notifications.removeChannel(id)).toBe(true);
      expect(await store.notifications.removeChannel(id)).toBe(false);
      // Its deliveries go with it.
      expect(await store.notifications.deliveryById(delivery.id)).toBeUndefined();
    });

    test("a cooldown is taken once per window, by one of several racing connections", async () => {
      const stores = await connections(3);
      const [store] = stores as [Store, ...Store[]];
      const id = await addChannel(store);
      const take = (s: Store, now: number) =>
        s.notifications.takeCooldown(id, "repository.overdue:repository:1", now, now - 3_600_000);
      const first = await Promise.all(stores.flatMap((s) => [take(s, T0), take(s, T0)]));
      expect(first.filter(Boolean)).toHaveLength(1);
      expect(await take(store, T0 + 60_000)).toBe(false);
      expect(await store.notifications.takeCooldown(id, "other-key", T0 + 60_000, T0)).toBe(true);
      expect(await take(store, T0 + 3_600_001)).toBe(true);
      expect(await take(store, T0 + 3_600_002)).toBe(false);
    });

    test("due deliveries are claimed once across connections, oldest due first", async () => {
      const stores = await connections(3);
      const [store] = stores as [Store, ...Store[]];
      const id = await addChannel(store);
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) {
        const row = await store.notifications.insertDelivery(
          {
            channelId: id,
            event: "job.failed",
            message: message(`m${i}`),
            nextAttemptAt: T0 + (i === 5 ? 60_000 : -i),
          },
          T0,
        );
        expect(row).toMatchObject({ status: "pending", attempts: 0, attemptLog: [], sentAt: null });
        ids.push(row.id);
      }
      const claims = await Promise.all(
        stores.map((s, i) => s.notifications.claimDue(T0, `token-${i}`, T0 + 30_000, 10)),
      );
      const claimed = claims.flat().map((d) => d.id);
      // Five are due; the sixth is not; each due one went to exactly one claimer.
      expect(claimed.sort((a, b) => a - b)).toEqual(ids.slice(0, 5));
      for (const [i, rows] of claims.entries()) {
        for (const row of rows)
          expect(row).toMatchObject({ status: "sending", claimToken: `token-${i}` });
      }
      expect(await store.notifications.claimDue(T0 + 1, "late", T0 + 30_000, 10)).toEqual([]);
      const one = await fresh();
      const channelId = await addChannel(one);
      for (const offset of [0, -2, -1]) {
        await one.notifications.insertDelivery(
          {
            channelId,
            event: "job.failed",
            message: message(`o${offset}`),
            nextAttemptAt: T0 + offset,
          },
          T0,
        );
      }
      const order = await one.notifications.claimDue(T0, "t", T0 + 1, 2);
      expect(order.map((d) => d.nextAttemptAt)).toEqual([T0 - 2, T0 - 1]);
    });

    test("attempts are recorded under the claim's token only; an expired claim is taken over", async () => {
      const store = await fresh();
      const id = await addChannel(store);
      const row = await store.notifications.insertDelivery(
        { channelId: id, event: "job.failed", message: message("retry me"), nextAttemptAt: T0 },
        T0,
      );
      const [claimed] = await store.notifications.claimDue(T0, "a", T0 + 30_000, 10);
      expect(claimed?.id).toBe(row.id);
      const failure = { at: T0, ok: false, httpStatus: 500, error: "HTTP 500" };
      expect(
        await store.notifications.recordAttempt(
          row.id,
          "wrong",
          { attempt: failure, nextAttemptAt: T0 + 1 },
          T0,
        ),
      ).toBeUndefined();
      const retry = await store.notifications.recordAttempt(
        row.id,
        "a",
        { attempt: failure, nextAttemptAt: T0 + 60_000 },
        T0,
      );
      expect(retry).toMatchObject({
        status: "pending",
        attempts: 1,
        lastError: "HTTP 500",
        nextAttemptAt: T0 + 60_000,
        claimToken: null,
        attemptLog: [failure],
      });
      expect(await store.notifications.nextDueAt()).toBe(T0 + 60_000);
      // Claimed by b, which then goes silent: after its lease c takes the row over.
      expect(await store.notifications.claimDue(T0 + 60_000, "b", T0 + 90_000, 10)).toHaveLength(1);
      expect(await store.notifications.claimDue(T0 + 89_999, "c", T0 + 200_000, 10)).toEqual([]);
      expect(await store.notifications.claimDue(T0 + 90_001, "c", T0 + 200_000, 10)).toHaveLength(
        1,
      );
      const ok = { at: T0 + 90_002, ok: true, httpStatus: 200, error: null };
      expect(
        await store.notifications.recordAttempt(
          row.id,
          "b",
          { attempt: ok, nextAttemptAt: null },
          T0 + 90_002,
        ),
      ).toBeUndefined();
      const sent = await store.notifications.recordAttempt(
        row.id,
        "c",
        { attempt: ok, nextAttemptAt: null },
        T0 + 90_002,
      );
      expect(sent).toMatchObject({
        status: "sent",
        attempts: 2,
        sentAt: T0 + 90_002,
        nextAttemptAt: null,
        attemptLog: [failure, ok],
      });
      expect(await store.notifications.nextDueAt()).toBeUndefined();
      // Sent is final: nothing claims it again.
      expect(await store.notifications.claimDue(T0 + 10_000_000, "d", T0 + 10_000_001, 10)).toEqual(
        [],
      );
    });

    test("finished deliveries older than a time are removed; pending ones stay", async () => {
      const store = await fresh();
      const id = await addChannel(store);
      const insert = (at: number) =>
        store.notifications.insertDelivery(
          { channelId: id, event: "job.failed", message: message(`${at}`), nextAttemptAt: at },
          at,
        );
      const [old, second, recent] = [
        await insert(T0),
        await insert(T0 + 1),
        await insert(T0 + 100),
      ];
      const claimed = await store.notifications.claimDue(T0, "a", T0 + 10, 1);
      expect(claimed.map((d) => d.id)).toEqual([old.id]);
      const ok = { at: T0, ok: true, httpStatus: 200, error: null };
      await store.notifications.recordAttempt(
        old.id,
        "a",
        { attempt: ok, nextAttemptAt: null },
        T0,
      );
      await store.notifications.claimDue(T0 + 100, "b", T0 + 110, 10);
      for (const d of [second, recent]) {
        await store.notifications.recordAttempt(
          d.id,
          "b",
          { attempt: ok, nextAttemptAt: null },
          T0 + 100,
        );
      }
      await insert(T0 + 2); // still pending, and old
      expect(await store.notifications.removeFinishedBefore(T0 + 50)).toBe(2);
      expect(await store.notifications.deliveryById(recent.id)).toBeDefined();
      expect(
        (await store.notifications.listDeliveries({ channelId: id, limit: 10 })).map(
          (d) => d.status,
        ),
      ).toEqual(["pending", "sent"]);
    });

    test("an attempt with no next time fails the delivery for good", async () => {
      const store = await fresh();
      const id = await addChannel(store);
      const row = await store.notifications.insertDelivery(
        { channelId: id, event: "job.failed", message: message("give up"), nextAttemptAt: T0 },
        T0,
      );
      await store.notifications.claimDue(T0, "a", T0 + 1000, 1);
      const failed = await store.notifications.recordAttempt(
        row.id,
        "a",
        {
          attempt: { at: T0, ok: false, httpStatus: null, error: "connection refused" },
          nextAttemptAt: null,
        },
        T0,
      );
      expect(failed).toMatchObject({
        status: "failed",
        attempts: 1,
        lastError: "connection refused",
      });
      expect(await store.notifications.claimDue(T0 + 10_000_000, "b", T0 + 10_000_001, 10)).toEqual(
        [],
      );
    });

    test("deliveries of a channel page newest first", async () => {
      const store = await fresh();
      const id = await addChannel(store);
      const other = await addChannel(store, "other");
      for (let i = 0; i < 5; i++) {
        await store.notifications.insertDelivery(
          {
            channelId: i === 2 ? other : id,
            event: "job.failed",
            message: message(`${i}`),
            nextAttemptAt: T0,
          },
          T0 + i,
        );
      }
      const pages: number[][] = [];
      let before: number | undefined;
      for (;;) {
        const rows = await store.notifications.listDeliveries({ channelId: id, limit: 2, before });
        if (rows.length === 0) break;
        pages.push(rows.map((r) => r.id));
        before = rows.at(-1)?.id;
      }
      expect(pages.flat()).toHaveLength(4);
      expect(pages.flat()).toEqual([...pages.flat()].sort((a, b) => b - a));
      const [first] = await store.notifications.listDeliveries({ channelId: id, limit: 1 });
      expect(first?.message.summary).toBe("4");
    });
  });
}
