/**
 * Notification channels, the outbox and the re-notify cooldowns on PostgreSQL
 * (NotificationStore). Replicas claim outbox rows with one UPDATE over a
 * `FOR UPDATE SKIP LOCKED` subquery that re-checks the claimable condition, so each row
 * goes to one sender; an attempt is recorded only under the claimer's token.
 */
import { and, asc, desc, eq, inArray, lt, lte, or, sql } from "drizzle-orm";
import { parseMaybe, parseRow, parseRows } from "../../parse.ts";
import { NotificationChannelRecord, NotificationDeliveryRecord } from "../../records.ts";
import type { NotificationStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { sqlState, UNIQUE_VIOLATION } from "../errors.ts";
import { notificationChannels, notificationCooldowns, notificationDeliveries } from "../schema.ts";

const CHANNELS = "notification_channels";
const DELIVERIES = "notification_deliveries";
/** An attempt log keeps this many entries (the newest); the same as on SQLite. */
const MAX_ATTEMPT_LOG = 20;

const delivery = (raw: unknown) => parseMaybe(NotificationDeliveryRecord, DELIVERIES, raw);

const finishedBefore = (before: number) =>
  and(
    inArray(notificationDeliveries.status, ["sent", "failed"]),
    lt(notificationDeliveries.createdAt, before),
  );

export function notificationQueries(db: Db): NotificationStore {
  const claimable = (now: number) =>
    or(
      and(
        eq(notificationDeliveries.status, "pending"),
        lte(notificationDeliveries.nextAttemptAt, now),
      ),
      and(eq(notificationDeliveries.status, "sending"), lt(notificationDeliveries.claimUntil, now)),
    );
  const heldBy = (id: number, claimToken: string) =>
    and(
      eq(notificationDeliveries.id, id),
      eq(notificationDeliveries.status, "sending"),
      eq(notificationDeliveries.claimToken, claimToken),
    );
  return {
    async insertChannel(channel, now) {
      const [row] = await db
        .insert(notificationChannels)
        .values({ ...channel, createdAt: now, updatedAt: now })
        .onConflictDoNothing({ target: notificationChannels.name })
        .returning();
      return parseMaybe(NotificationChannelRecord, CHANNELS, row);
    },
    async listChannels() {
      return parseRows(
        NotificationChannelRecord,
        CHANNELS,
        await db.select().from(notificationChannels).orderBy(notificationChannels.id),
      );
    },
    async channelById(id) {
      const [row] = await db
        .select()
        .from(notificationChannels)
        .where(eq(notificationChannels.id, id));
      return parseMaybe(NotificationChannelRecord, CHANNELS, row);
    },
    /** In a savepoint: a taken name aborts only it, not the caller's transaction. */
    async updateChannel(id, patch, now) {
      try {
        const [row] = await db.transaction((tx) =>
          tx
            .update(notificationChannels)
            .set({ ...patch, updatedAt: now })
            .where(eq(notificationChannels.id, id))
            .returning(),
        );
        return parseMaybe(NotificationChannelRecord, CHANNELS, row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) return "name_taken";
        throw error;
      }
    },
    async removeChannel(id) {
      const rows = await db
        .delete(notificationChannels)
        .where(eq(notificationChannels.id, id))
        .returning({ id: notificationChannels.id });
      return rows.length > 0;
    },
    async takeCooldown(channelId, key, now, since) {
      // ON CONFLICT DO UPDATE locks the existing row and re-checks setWhere: one winner.
      const taken = await db
        .insert(notificationCooldowns)
        .values({ channelId, key, lastAt: now })
        .onConflictDoUpdate({
          target: [notificationCooldowns.channelId, notificationCooldowns.key],
          set: { lastAt: now },
          setWhere: lt(notificationCooldowns.lastAt, since),
        })
        .returning({ key: notificationCooldowns.key });
      return taken.length > 0;
    },
    async insertDelivery(input, now) {
      const [row] = await db
        .insert(notificationDeliveries)
        .values({ ...input, status: "pending", attemptLog: [], createdAt: now })
        .returning();
      return parseRow(NotificationDeliveryRecord, DELIVERIES, row);
    },
    async deliveryById(id) {
      const [row] = await db
        .select()
        .from(notificationDeliveries)
        .where(eq(notificationDeliveries.id, id));
      return delivery(row);
    },
    async listDeliveries({ channelId, limit, before }) {
      return parseRows(
        NotificationDeliveryRecord,
        DELIVERIES,
        await db
          .select()
          .from(notificationDeliveries)
          .where(
            and(
              eq(notificationDeliveries.channelId, channelId),
              before === undefined ? undefined : lt(notificationDeliveries.id, before),
            ),
          )
          .orderBy(desc(notificationDeliveries.id))
          .limit(limit),
      );
    },
    async claimDue(now, claimToken, claimUntil, limit) {
      const due = db
        .select({ id: notificationDeliveries.id })
        .from(notificationDeliveries)
        .where(claimable(now))
        .orderBy(asc(notificationDeliveries.nextAttemptAt), asc(notificationDeliveries.id))
        .limit(limit)
        .for("update", { skipLocked: true });
      const rows = await db
        .update(notificationDeliveries)
        .set({ status: "sending", claimToken, claimUntil })
        .where(and(inArray(notificationDeliveries.id, due), claimable(now)))
        .returning();
      return parseRows(NotificationDeliveryRecord, DELIVERIES, rows).sort(
        (a, b) => (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0) || a.id - b.id,
      );
    },
    async recordAttempt(id, claimToken, outcome, now) {
      const [raw] = await db.select().from(notificationDeliveries).where(heldBy(id, claimToken));
      const held = delivery(raw);
      if (!held) return undefined;
      const { attempt } = outcome;
      const done = attempt.ok || outcome.nextAttemptAt === null;
      // Guarded by the token: a sender whose claim expired and was taken writes nothing.
      const [row] = await db
        .update(notificationDeliveries)
        .set({
          status: attempt.ok ? "sent" : done ? "failed" : "pending",
          attempts: held.attempts + 1,
          attemptLog: [...held.attemptLog, attempt].slice(-MAX_ATTEMPT_LOG),
          lastError: attempt.ok ? held.lastError : attempt.error,
          nextAttemptAt: done ? null : outcome.nextAttemptAt,
          sentAt: attempt.ok ? now : null,
          claimToken: null,
          claimUntil: null,
        })
        .where(heldBy(id, claimToken))
        .returning();
      return delivery(row);
    },
    async nextDueAt() {
      const [row] = await db
        .select({ at: sql<string | number | null>`min(${notificationDeliveries.nextAttemptAt})` })
        .from(notificationDeliveries)
        .where(eq(notificationDeliveries.status, "pending"));
      return row?.at === null || row?.at === undefined ? undefined : Number(row.at);
    },
    async removeFinishedBefore(before) {
      const rows = await db
        .delete(notificationDeliveries)
        .where(finishedBefore(before))
        .returning({ id: notificationDeliveries.id });
      return rows.length;
    },
  };
}
