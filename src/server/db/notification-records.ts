/**
 * Notification channels and their outbox (API.md, Notifications): the records the
 * Store reads back, and the inputs its NotificationStore methods take. Re-exported by
 * records.ts. A channel's secret (webhook secret, ntfy token, SMTP password) is stored
 * sealed by services/secret-box.ts in `sealedSecret` and never leaves the services.
 */
import { z } from "zod";
import { NotificationChannelType, NotificationEvent } from "../../shared/protocol/api.ts";

const Id = z.number().int();
const Time = z.number().int();
const TimeOrNull = Time.nullable();

export const NotificationChannelRecord = z.object({
  id: Id,
  name: z.string(),
  type: NotificationChannelType,
  /** The kind's config without its secret fields (protocol/api-notifications.ts). */
  config: z.record(z.string(), z.unknown()),
  /** The secret fields as one sealed JSON object; null when the channel has none. */
  sealedSecret: z.string().nullable(),
  events: z.array(NotificationEvent),
  enabled: z.boolean(),
  cooldownSeconds: z.number().int(),
  createdAt: Time,
  updatedAt: Time,
});
export type NotificationChannelRow = z.infer<typeof NotificationChannelRecord>;

export type NewNotificationChannel = Omit<NotificationChannelRow, "id" | "createdAt" | "updatedAt">;
/** undefined keeps the stored value. */
export type NotificationChannelPatch = Partial<Omit<NewNotificationChannel, "type">>;

/**
 * An outbox row's status: pending (waiting for its next attempt), sending (claimed by
 * one sender until claimUntil), sent, failed (gave up). Only pending and an expired
 * sending row can be claimed.
 */
export const DELIVERY_STATUSES = ["pending", "sending", "sent", "failed"] as const;
export const DeliveryStatus = z.enum(DELIVERY_STATUSES);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const DeliveryAttemptRecord = z.object({
  at: Time,
  ok: z.boolean(),
  httpStatus: z.number().int().nullable(),
  error: z.string().nullable(),
});
export type DeliveryAttemptRow = z.infer<typeof DeliveryAttemptRecord>;

/**
 * The message as the hub published it (services/hub-events.ts HubMessage), stored
 * whole so a retry after a restart sends what the first attempt sent.
 */
export const DeliveryMessageRecord = z.object({
  event: z.string(),
  occurred_at: z.string(),
  summary: z.string(),
  url: z.string().nullable(),
  repository: z.object({ id: Id, name: z.string() }).optional(),
  machine: z.object({ id: Id, name: z.string() }).optional(),
  job: z
    .object({
      id: Id,
      kind: z.string(),
      status: z.string(),
      error_message: z.string().nullable(),
    })
    .optional(),
  plan: z.object({ id: Id, name: z.string() }).optional(),
  box: z.object({ id: Id, name: z.string() }).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  /** Healthchecks only: which ping (start, success, fail; log for a test) and the /fail log tail. */
  ping: z.enum(["start", "success", "fail", "log"]).optional(),
  log_tail: z.string().optional(),
});
export type DeliveryMessage = z.infer<typeof DeliveryMessageRecord>;

export const NotificationDeliveryRecord = z.object({
  id: Id,
  channelId: Id,
  event: z.string(),
  message: DeliveryMessageRecord,
  status: DeliveryStatus,
  attempts: z.number().int(),
  attemptLog: z.array(DeliveryAttemptRecord),
  lastError: z.string().nullable(),
  nextAttemptAt: TimeOrNull,
  /** The claimer's random token and lease while status is sending. */
  claimToken: z.string().nullable(),
  claimUntil: TimeOrNull,
  createdAt: Time,
  sentAt: TimeOrNull,
});
export type NotificationDeliveryRow = z.infer<typeof NotificationDeliveryRecord>;

export interface NewNotificationDelivery {
  channelId: number;
  event: string;
  message: DeliveryMessage;
  /** The first attempt's time (normally now). */
  nextAttemptAt: number;
}

/** What one attempt ended as: sent, retry at `nextAttemptAt`, or failed for good (null). */
export interface DeliveryAttemptOutcome {
  attempt: DeliveryAttemptRow;
  /** Ignored when the attempt was ok. */
  nextAttemptAt: number | null;
}

export interface DeliveryListFilter {
  channelId: number;
  limit: number;
  /** Page with the smallest id of the previous page. */
  before?: number;
}
