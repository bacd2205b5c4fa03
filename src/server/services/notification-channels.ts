/**
 * Notification channels as admins manage them (API.md, Notifications): create, read,
 * change, delete, "send test", and the delivery log. A channel's secret fields (webhook
 * secret, ntfy token, SMTP password, also one written into smtp_url) are split from its
 * config, sealed together with the secret box and never returned: answers say "set".
 * Every change is audited without config values (URLs may carry tokens of their own).
 */
import { z } from "zod";
import { AppError } from "../../shared/errors.ts";
import {
  CONFIG_INPUTS,
  type CreateNotificationChannelRequest,
  type NotificationChannel,
  type NotificationChannelType,
  type NotificationDelivery,
  SECRET_FIELDS,
  SECRET_SET,
  type UpdateNotificationChannelRequest,
} from "../../shared/protocol/api.ts";
import type {
  NotificationChannelPatch,
  NotificationChannelRow,
  NotificationDeliveryRow,
} from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import type { UserActor } from "./actor.ts";
import { audit } from "./audit.ts";
import { enqueueTest } from "./hub-events.ts";
import { toIso, toIsoOrNull } from "./time.ts";

type Secrets = Record<string, string>;

const secretFieldsOf = (type: NotificationChannelType): readonly string[] => SECRET_FIELDS[type];

/** The config as checked, split into what is stored plainly and what is sealed. */
function splitConfig(
  type: NotificationChannelType,
  config: Record<string, unknown>,
): { config: Record<string, unknown>; secrets: Secrets } {
  const plain: Record<string, unknown> = {};
  const secrets: Secrets = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    if (secretFieldsOf(type).includes(key)) secrets[key] = String(value);
    else plain[key] = value;
  }
  // smtp://user:password@host: the password is a secret like `password`, and leaves the URL.
  if (type === "email" && typeof plain.smtp_url === "string") {
    const url = new URL(plain.smtp_url);
    if (url.password !== "") {
      if (secrets.password === undefined) secrets.password = decodeURIComponent(url.password);
      url.password = "";
      plain.smtp_url = url.toString().replace(/\/$/, "");
    }
  }
  return { config: plain, secrets };
}

const seal = (deps: HubDeps, secrets: Secrets): string | null =>
  Object.keys(secrets).length === 0 ? null : deps.secretBox.encrypt(JSON.stringify(secrets));

/** The channel's secret fields, decrypted (for the sender only). */
export function channelSecrets(deps: HubDeps, channel: NotificationChannelRow): Secrets {
  if (channel.sealedSecret === null) return {};
  return z
    .record(z.string(), z.string())
    .parse(JSON.parse(deps.secretBox.decrypt(channel.sealedSecret)));
}

/** Which secret fields a stored channel has, without decrypting them. */
const storedSecretNames = (deps: HubDeps, channel: NotificationChannelRow): string[] =>
  Object.keys(channelSecrets(deps, channel));

/** A 400 naming `config.<field>` for each problem, like the request validator's. */
function configInvalid(error: z.ZodError): never {
  const details = error.issues.map((issue) => ({
    path: ["config", ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  throw new AppError(
    "validation_failed",
    details.map((d) => `${d.path}: ${d.message}`).join("; "),
    details,
  );
}

export function channelJson(deps: HubDeps, channel: NotificationChannelRow): NotificationChannel {
  const config: Record<string, unknown> = { ...channel.config };
  for (const name of storedSecretNames(deps, channel)) config[name] = SECRET_SET;
  return {
    id: channel.id,
    name: channel.name,
    type: channel.type,
    config,
    events: channel.events,
    enabled: channel.enabled,
    cooldown_minutes: Math.round(channel.cooldownSeconds / 60),
    created_at: toIso(channel.createdAt),
    updated_at: toIso(channel.updatedAt),
  };
}

export function deliveryJson(delivery: NotificationDeliveryRow): NotificationDelivery {
  return {
    id: delivery.id,
    channel_id: delivery.channelId,
    event: delivery.event,
    summary: delivery.message.summary,
    // A row being sent right now is still pending to its reader.
    status: delivery.status === "sending" ? "pending" : delivery.status,
    attempts: delivery.attempts,
    last_error: delivery.lastError,
    next_attempt_at: toIsoOrNull(delivery.nextAttemptAt),
    created_at: toIso(delivery.createdAt),
    sent_at: toIsoOrNull(delivery.sentAt),
    attempt_log: delivery.attemptLog.map((a) => ({
      at: toIso(a.at),
      ok: a.ok,
      http_status: a.httpStatus,
      error: a.error,
    })),
  };
}

export const listChannels = (deps: HubDeps): Promise<NotificationChannelRow[]> =>
  deps.store.notifications.listChannels();

export async function getChannel(deps: HubDeps, id: number): Promise<NotificationChannelRow> {
  const channel = await deps.store.notifications.channelById(id);
  if (!channel) throw new AppError("not_found", `no notification channel ${id}`);
  return channel;
}

const nameTaken = (name: string) =>
  new AppError("conflict", `a notification channel named "${name}" exists; choose another name`);

export async function createChannel(
  deps: HubDeps,
  actor: UserActor,
  request: CreateNotificationChannelRequest,
): Promise<NotificationChannelRow> {
  const { config, secrets } = splitConfig(request.type, request.config);
  const row = await deps.store.notifications.insertChannel(
    {
      name: request.name,
      type: request.type,
      config,
      sealedSecret: seal(deps, secrets),
      events: request.events,
      enabled: request.enabled,
      cooldownSeconds: request.cooldown_minutes * 60,
    },
    deps.clock(),
  );
  if (!row) throw nameTaken(request.name);
  await audit(deps, {
    actor,
    action: "notification_channel.create",
    target: `notification_channel:${row.id}`,
    ip: actor.ip,
    details: { name: row.name, type: row.type, events: row.events, secrets: Object.keys(secrets) },
  });
  return row;
}

/**
 * A PATCH: `config` fields over the stored ones (null removes an optional field; a secret
 * field "set" keeps it), the whole checked again with the kind's strict schema.
 */
export async function updateChannel(
  deps: HubDeps,
  actor: UserActor,
  id: number,
  request: UpdateNotificationChannelRequest,
): Promise<NotificationChannelRow> {
  const channel = await getChannel(deps, id);
  const patch: NotificationChannelPatch = {
    name: request.name,
    events: request.events,
    enabled: request.enabled,
    cooldownSeconds:
      request.cooldown_minutes === undefined ? undefined : request.cooldown_minutes * 60,
  };
  let changedSecrets: string[] = [];
  if (request.config !== undefined) {
    const stored = channelSecrets(deps, channel);
    const merged: Record<string, unknown> = { ...channel.config, ...stored };
    for (const [key, value] of Object.entries(request.config)) {
      if (value === null) delete merged[key];
      else if (!(secretFieldsOf(channel.type).includes(key) && value === SECRET_SET))
        merged[key] = value;
    }
    // A new smtp_url with user:password@ brings its own password, unless `password` is sent too.
    if (
      channel.type === "email" &&
      typeof request.config.smtp_url === "string" &&
      request.config.password === undefined &&
      URL.canParse(request.config.smtp_url) &&
      new URL(request.config.smtp_url).password !== ""
    ) {
      delete merged.password;
    }
    const checked = CONFIG_INPUTS[channel.type].safeParse(merged);
    if (!checked.success) configInvalid(checked.error);
    const { config, secrets } = splitConfig(channel.type, checked.data as Record<string, unknown>);
    patch.config = config;
    patch.sealedSecret = seal(deps, secrets);
    changedSecrets = Object.keys(request.config).filter(
      (k) => secretFieldsOf(channel.type).includes(k) && request.config?.[k] !== SECRET_SET,
    );
  }
  const updated = await deps.store.notifications.updateChannel(id, patch, deps.clock());
  if (updated === "name_taken") throw nameTaken(request.name ?? "");
  if (!updated) throw new AppError("not_found", `no notification channel ${id}`);
  await audit(deps, {
    actor,
    action: "notification_channel.update",
    target: `notification_channel:${id}`,
    ip: actor.ip,
    details: {
      fields: Object.keys(request),
      config_fields: request.config === undefined ? undefined : Object.keys(request.config),
      secrets_changed: changedSecrets,
      enabled: request.enabled,
    },
  });
  return updated;
}

export async function deleteChannel(deps: HubDeps, actor: UserActor, id: number): Promise<void> {
  const channel = await getChannel(deps, id);
  if (!(await deps.store.notifications.removeChannel(id))) {
    throw new AppError("not_found", `no notification channel ${id}`);
  }
  await audit(deps, {
    actor,
    action: "notification_channel.delete",
    target: `notification_channel:${id}`,
    ip: actor.ip,
    details: { name: channel.name, type: channel.type },
  });
}

/** Queues one test message to the channel (sent by the sender like any other). */
export async function testChannel(deps: HubDeps, actor: UserActor, id: number): Promise<number> {
  const channel = await getChannel(deps, id);
  const deliveryId = await enqueueTest(deps, channel);
  await audit(deps, {
    actor,
    action: "notification_channel.test",
    target: `notification_channel:${id}`,
    ip: actor.ip,
    details: { delivery_id: deliveryId },
  });
  return deliveryId;
}

export async function listDeliveries(
  deps: HubDeps,
  id: number,
  query: { limit: number; before?: number },
): Promise<NotificationDeliveryRow[]> {
  await getChannel(deps, id);
  return deps.store.notifications.listDeliveries({ channelId: id, ...query });
}
