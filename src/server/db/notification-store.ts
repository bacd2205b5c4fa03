/**
 * The Store group of notification channels and their outbox (part of store.ts's Store;
 * its contract applies).
 */
import type {
  DeliveryAttemptOutcome,
  DeliveryListFilter,
  NewNotificationChannel,
  NewNotificationDelivery,
  NotificationChannelPatch,
  NotificationChannelRow,
  NotificationDeliveryRow,
} from "./records.ts";

/**
 * Notification channels and their outbox (services/hub-events.ts enqueues,
 * services/notification-sender.ts sends). Claims and attempt records are guarded by
 * status and the claimer's token, so several hub replicas can run senders on one outbox.
 */
export interface NotificationStore {
  /** Undefined when the name is taken. */
  insertChannel(
    channel: NewNotificationChannel,
    now: number,
  ): Promise<NotificationChannelRow | undefined>;
  /** Oldest first. */
  listChannels(): Promise<NotificationChannelRow[]>;
  channelById(id: number): Promise<NotificationChannelRow | undefined>;
  /** "name_taken" when a rename collides; undefined when there is no such channel. */
  updateChannel(
    id: number,
    patch: NotificationChannelPatch,
    now: number,
  ): Promise<NotificationChannelRow | undefined | "name_taken">;
  /** Deletes the channel with its deliveries and cooldowns. */
  removeChannel(id: number): Promise<boolean>;
  /**
   * The cooldown of (channel, key), in one guarded upsert: true (and last_at → now) when
   * the key was never taken or last taken before `since`; false otherwise. Of racing
   * takers of one key exactly one gets true.
   */
  takeCooldown(channelId: number, key: string, now: number, since: number): Promise<boolean>;
  insertDelivery(delivery: NewNotificationDelivery, now: number): Promise<NotificationDeliveryRow>;
  deliveryById(id: number): Promise<NotificationDeliveryRow | undefined>;
  /** Newest first. */
  listDeliveries(filter: DeliveryListFilter): Promise<NotificationDeliveryRow[]>;
  /**
   * Claims up to `limit` due deliveries (pending with next_attempt_at ≤ now, or sending
   * with an expired claim) for `claimToken` until `claimUntil`, oldest due first; each is
   * one guarded UPDATE, so of racing claimers one gets each row.
   */
  claimDue(
    now: number,
    claimToken: string,
    claimUntil: number,
    limit: number,
  ): Promise<NotificationDeliveryRow[]>;
  /**
   * Records one attempt of a delivery this claimToken holds: sent, pending again until
   * `outcome.nextAttemptAt`, or failed when that is null. Undefined (nothing written)
   * when the claim was lost (expired and taken by another sender).
   */
  recordAttempt(
    id: number,
    claimToken: string,
    outcome: DeliveryAttemptOutcome,
    now: number,
  ): Promise<NotificationDeliveryRow | undefined>;
  /** The earliest next_attempt_at of a pending delivery (for the sender's timer). */
  nextDueAt(): Promise<number | undefined>;
  /** Deletes sent and failed deliveries created before `before`; returns how many. */
  removeFinishedBefore(before: number): Promise<number>;
}
