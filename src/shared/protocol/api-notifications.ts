/**
 * /api/notification-channels (admin): where the hub sends what happens to the fleet
 * (API.md, Notifications). A channel is one of four kinds, each with its own `config`:
 * webhook, ntfy, healthchecks, email. Re-exported by api.ts.
 *
 * Secrets (a webhook's signing secret, an ntfy token, an SMTP password) are write-only:
 * a request may set them, an answer only says `"set"` in their place. A PATCH that sends
 * a secret field back as `"set"` (what GET answered) keeps it, `null` removes it.
 * URLs are parsed as URLs: http/https for webhook, ntfy and Healthchecks, smtp/smtps for
 * e-mail; nothing else reaches the sender.
 */
import { z } from "zod";
import { OneLine, UncheckedTimestamp } from "./common.ts";

const Id = z.number().int().positive();

/** Every event the hub publishes (services/hub-events.ts says who publishes which). */
export const NOTIFICATION_EVENTS = [
  "job.failed",
  "job.warning",
  "job.succeeded",
  "repository.overdue",
  "machine.offline",
  "box.offline",
  "box.low_space",
  "plan.missed",
] as const;
export const NotificationEvent = z.enum(NOTIFICATION_EVENTS);
export type NotificationEvent = z.infer<typeof NotificationEvent>;

export const NOTIFICATION_CHANNEL_TYPES = ["webhook", "ntfy", "healthchecks", "email"] as const;
export const NotificationChannelType = z.enum(NOTIFICATION_CHANNEL_TYPES);
export type NotificationChannelType = z.infer<typeof NotificationChannelType>;

/** What an answer shows in place of a stored secret. */
export const SECRET_SET = "set";

/** A URL with one of `schemes` (each with its colon), parsed, at most 2048 characters. */
const UrlWith = (schemes: readonly string[], what: string) =>
  OneLine(2048)
    .min(1)
    .refine((text) => {
      try {
        const url = new URL(text);
        return schemes.includes(url.protocol) && url.hostname !== "";
      } catch {
        return false;
      }
    }, `must be ${what}`);

export const HttpUrl = UrlWith(["http:", "https:"], "an http:// or https:// URL");
export const SmtpUrl = UrlWith(
  ["smtp:", "smtps:"],
  "an smtp:// (STARTTLS) or smtps:// (TLS) URL, e.g. smtp://user@mail.example.com:587",
);

const Secret = (min: number) => OneLine(256).min(min);
const EmailAddress = z.email().max(254);

/** ntfy's priorities: 1 min, 2 low, 3 default, 4 high, 5 max/urgent. */
const NtfyPriority = z.number().int().min(1).max(5);

/** Per kind: the config fields and which of them are secrets. */
export const WebhookConfigInput = z.strictObject({
  url: HttpUrl,
  /** HMAC-SHA256 key for X-Borgctl-Signature; at least 16 characters. */
  secret: Secret(16).optional(),
});
export const NtfyConfigInput = z.strictObject({
  /** The topic URL, e.g. https://ntfy.sh/my-backups. */
  url: HttpUrl,
  /** An access token (sent as Authorization: Bearer). */
  token: Secret(1).optional(),
  priority: NtfyPriority.optional(),
});
export const HealthchecksConfigInput = z.strictObject({
  /** The check's ping URL, e.g. https://hc-ping.com/<uuid>. */
  url: HttpUrl,
  /** Ping only for backups of this repository (and/or this plan). */
  repository_id: Id.optional(),
  plan_id: Id.optional(),
});
export const EmailConfigInput = z.strictObject({
  /**
   * smtp://[user[:password]@]host[:port] (STARTTLS, port 587 by default) or smtps://
   * (TLS from the first byte, port 465). A password written here is stored like
   * `password` and removed from the URL.
   */
  smtp_url: SmtpUrl,
  /** "none" only for a relay on a trusted network (e.g. 127.0.0.1:25): no TLS at all. */
  security: z.enum(["starttls", "tls", "none"]).optional(),
  password: Secret(1).optional(),
  from: EmailAddress,
  to: z.array(EmailAddress).min(1).max(20),
});

/** Fields of each kind that are secrets: write-only, encrypted at rest. */
export const SECRET_FIELDS = {
  webhook: ["secret"],
  ntfy: ["token"],
  healthchecks: [],
  email: ["password"],
} as const satisfies Record<NotificationChannelType, readonly string[]>;

export const CONFIG_INPUTS = {
  webhook: WebhookConfigInput,
  ntfy: NtfyConfigInput,
  healthchecks: HealthchecksConfigInput,
  email: EmailConfigInput,
} as const;

const ChannelFields = {
  name: OneLine(128).min(1),
  /** At least one event; Healthchecks pings follow the job.* events it lists. */
  events: z
    .array(NotificationEvent)
    .min(1)
    .max(NOTIFICATION_EVENTS.length)
    .refine((events) => new Set(events).size === events.length, "lists an event twice"),
  enabled: z.boolean(),
  /**
   * The same event about the same thing (one repository overdue, one machine offline)
   * is sent at most once per cooldown on this channel; 0 sends every one. Healthchecks
   * channels ping every backup whatever this says.
   */
  cooldown_minutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60),
};

const create = <T extends NotificationChannelType, C extends z.ZodType>(type: T, config: C) =>
  z.strictObject({
    name: ChannelFields.name,
    type: z.literal(type),
    config,
    events: ChannelFields.events,
    enabled: ChannelFields.enabled.default(true),
    cooldown_minutes: ChannelFields.cooldown_minutes.default(60),
  });

export const CreateNotificationChannelRequest = z.discriminatedUnion("type", [
  create("webhook", WebhookConfigInput),
  create("ntfy", NtfyConfigInput),
  create("healthchecks", HealthchecksConfigInput),
  create("email", EmailConfigInput),
]);
export type CreateNotificationChannelRequest = z.infer<typeof CreateNotificationChannelRequest>;

/**
 * The type never changes. `config` holds only the fields to change; the hub checks them
 * against the channel's kind (400 naming `config.<field>`). A secret field: a new value,
 * `"set"` to keep, `null` to remove.
 */
export const UpdateNotificationChannelRequest = z.strictObject({
  name: ChannelFields.name.optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  events: ChannelFields.events.optional(),
  enabled: ChannelFields.enabled.optional(),
  cooldown_minutes: ChannelFields.cooldown_minutes.optional(),
});
export type UpdateNotificationChannelRequest = z.infer<typeof UpdateNotificationChannelRequest>;

export const NotificationChannel = z.object({
  id: Id,
  name: z.string(),
  type: NotificationChannelType,
  /** The kind's config without secrets; each secret that is stored reads "set". */
  config: z.record(z.string(), z.unknown()),
  events: z.array(NotificationEvent),
  enabled: z.boolean(),
  cooldown_minutes: z.number().int(),
  created_at: UncheckedTimestamp,
  updated_at: UncheckedTimestamp,
});
export type NotificationChannel = z.infer<typeof NotificationChannel>;

export const DeliveryAttempt = z.object({
  at: UncheckedTimestamp,
  ok: z.boolean(),
  /** The receiver's HTTP status, when it answered. */
  http_status: z.number().int().nullable(),
  /** Why it failed (an HTTP status line, a network or SMTP error), without secrets. */
  error: z.string().nullable(),
});

export const NotificationDelivery = z.object({
  id: Id,
  channel_id: Id,
  /** One of the events, or "test" for POST /{id}/test. */
  event: z.string(),
  summary: z.string(),
  status: z.enum(["pending", "sent", "failed"]),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  next_attempt_at: UncheckedTimestamp.nullable(),
  created_at: UncheckedTimestamp,
  sent_at: UncheckedTimestamp.nullable(),
  attempt_log: z.array(DeliveryAttempt),
});
export type NotificationDelivery = z.infer<typeof NotificationDelivery>;

export const DeliveryListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
});

export const TestAccepted = z.object({ delivery_id: Id });
