/**
 * Notification channels, the outbox and the re-notify cooldowns on SQLite
 * (NotificationStore). Every claim and attempt record is one guarded statement; bun:sqlite
 * is synchronous, so each method does its reads and writes before its first await.
 */
import { and, asc, desc, eq, inArray, lt, lte, or, sql } from "drizzle-orm";
import { parseMaybe, parseRow, parseRows } from "../../parse.ts";
import {
  NotificationChannelRecord,
  NotificationDeliveryRecord,
  type NotificationDeliveryRow,
} from "../../records.ts";
import type { NotificationStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { notificationChannels, notificationCooldowns, notificationDeliveries } from "../schema.ts";

const CHANNELS = "notification_channels";
const DELIVERIES = "notification_deliveries";
/** An attempt log keeps this many entries (the newest). */
export const MAX_ATTEMPT_LOG = 20;

const isUniqueViolation = (error: unknown) =>
  error instanceof Error && /UNIQUE constraint failed/.test(error.message);

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
  return {
    async insertChannel(channel, now) {
      const row = db
        .insert(notificationChannels)
        .values({ ...channel, createdAt: now, updatedAt: now })
        .onConflictDoNothing({ target: notificationChannels.name })
        .returning()
        .get();
      return parseMaybe(NotificationChannelRecord, CHANNELS, row);
    },
    async listChannels() {
      return parseRows(
        NotificationChannelRecord,
        CHANNELS,
        db.select().from(notificationChannels).orderBy(notificationChannels.id).all(),
      );
    },
    async channelById(id) {
      return parseMaybe(
        NotificationChannelRecord,
        CHANNELS,
        db.select().from(notificationChannels).where(eq(notificationChannels.id, id)).get(),
      );
    },
    async updateChannel(id, patch, now) {
      try {
        return parseMaybe(
          NotificationChannelRecord,
          CHANNELS,
          db
            .update(notificationChannels)
            .set({ ...patch, updatedAt: now })
            .where(eq(notificationChannels.id, id))
            .returning()
            .get(),
        );
      } catch (error) {
        if (isUniqueViolation(error)) return "name_taken";
        throw error;
      }
    },
    async removeChannel(id) {
      return (
        db
          .delete(notificationChannels)
          .where(eq(notificationChannels.id, id))
          .returning({ id: notificationChannels.id })
          .all().length > 0
      );
    },
    async takeCooldown(channelId, key, now, since) {
      const taken = db
        .insert(notificationCooldowns)
        .values({ channelId, key, lastAt: now })
        .onConflictDoUpdate({
          target: [notificationCooldowns.channelId, notificationCooldowns.key],
          set: { lastAt: now },
          setWhere: lt(notificationCooldowns.lastAt, since),
        })
        .returning({ key: notificationCooldowns.key })
        .all();
      return taken.length > 0;
    },
    async insertDelivery(input, now) {
      return parseRow(
        NotificationDeliveryRecord,
        DELIVERIES,
        db
          .insert(notificationDeliveries)
          .values({ ...input, status: "pending", attemptLog: [], createdAt: now })
          .returning()
          .get(),
      );
    },
    async deliveryById(id) {
      return delivery(
        db.select().from(notificationDeliveries).where(eq(notificationDeliveries.id, id)).get(),
      );
    },
    async listDeliveries({ channelId, limit, before }) {
      return parseRows(
        NotificationDeliveryRecord,
        DELIVERIES,
        db
          .select()
          .from(notificationDeliveries)
          .where(
            and(
              eq(notificationDeliveries.channelId, channelId),
              before === undefined ? undefined : lt(notificationDeliveries.id, before),
            ),
          )
          .orderBy(desc(notificationDeliveries.id))
          .limit(limit)
          .all(),
      );
    },
    async claimDue(now, claimToken, claimUntil, limit) {
      const candidates = db
        .select({ id: notificationDeliveries.id })
        .from(notificationDeliveries)
        .where(claimable(now))
        .orderBy(asc(notificationDeliveries.nextAttemptAt), asc(notificationDeliveries.id))
        .limit(limit)
        .all();
      const claimed: NotificationDeliveryRow[] = [];
      for (const { id } of candidates) {
        const row = db
          .update(notificationDeliveries)
          .set({ status: "sending", claimToken, claimUntil })
          .where(and(eq(notificationDeliveries.id, id), claimable(now)))
          .returning()
          .get();
        const parsed = delivery(row);
        if (parsed) claimed.push(parsed);
      }
      return claimed;
    },
    async recordAttempt(id, claimToken, outcome, now) {
      const held = delivery(
        db
          .select()
          .from(notificationDeliveries)
          .where(
            and(
              eq(notificationDeliveries.id, id),
              eq(notificationDeliveries.status, "sending"),
              eq(notificationDeliveries.claimToken, claimToken),
            ),
          )
          .get(),
      );
      if (!held) return undefined;
      const { attempt } = outcome;
      const done = attempt.ok || outcome.nextAttemptAt === null;
      const row = db
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
        .where(
          and(
            eq(notificationDeliveries.id, id),
            eq(notificationDeliveries.status, "sending"),
            eq(notificationDeliveries.claimToken, claimToken),
          ),
        )
        .returning()
        .get();
      return delivery(row);
    },
    async nextDueAt() {
      const row = db
        .select({ at: sql<number | null>`min(${notificationDeliveries.nextAttemptAt})` })
        .from(notificationDeliveries)
        .where(eq(notificationDeliveries.status, "pending"))
        .get();
      return row?.at ?? undefined;
    },
    async removeFinishedBefore(before) {
      return db
        .delete(notificationDeliveries)
        .where(finishedBefore(before))
        .returning({ id: notificationDeliveries.id })
        .all().length;
    },
  };
}
