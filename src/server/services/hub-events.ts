/**
 * The hub's events, as the rest of the hub tells the notification outbox what happened:
 * one typed `HubEvent` per thing worth telling a person, and `publishHubEvent(deps,
 * event)` that turns it into outbox rows (one per enabled channel that wants it, minus
 * what the channel's cooldown holds back). The sender (notification-sender.ts) delivers
 * them later, so publishing never waits on a receiver and never fails its caller.
 *
 * Who publishes what:
 * - job.succeeded / job.warning / job.failed, and job.started (internal: Healthchecks'
 *   /start ping): job-finish.ts recordJobTransition, for every job, whoever ended it.
 * - machine.offline: machines.ts sweepOfflineAgents, once per online → offline change.
 * - repository.overdue: freshness.ts sweepFreshness; box.offline and box.low_space:
 *   boxes.ts refreshBox (every refresh while it holds); plan.missed: scheduler.ts, where
 *   the plan.missed audit is written. One call each, e.g.
 *     await publishHubEvent(deps, { type: "repository.overdue", repository: { id, name },
 *       machine: { id, name }, overdueSince, lastSuccessAt });
 *   It may be called on every evaluation while the condition holds: the per-channel
 *   cooldown (keyed by event and subject, subjectKey below) lets one through per window.
 *
 * Messages carry names, ids, statuses and the job's error message (which the hub has
 * already redacted), never a passphrase or token, and link to the hub's page
 * (public_url) for the detail.
 */
import type { DeliveryMessage, NotificationChannelRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { toIso, toIsoOrNull } from "./time.ts";

export interface Named {
  id: number;
  name: string;
}

export interface JobFacts {
  id: number;
  kind: string;
  status: string;
  errorMessage: string | null;
  planId: number | null;
}

/** Everything the hub publishes; `type` names the event (protocol NOTIFICATION_EVENTS). */
export type HubEvent =
  | {
      type: "job.failed" | "job.warning" | "job.succeeded" | "job.started";
      job: JobFacts;
      repository?: Named;
      machine?: Named;
    }
  | {
      type: "repository.overdue";
      repository: Named;
      machine?: Named;
      /** Epoch ms since when no successful backup came in time. */
      overdueSince: number;
      lastSuccessAt: number | null;
    }
  | { type: "machine.offline"; machine: Named; lastSeenAt: number | null }
  | { type: "box.offline"; box: Named; lastSeenAt: number | null }
  | { type: "box.low_space"; box: Named; freeBytes: number; totalBytes: number }
  | { type: "plan.missed"; plan: Named; repository: Named; missedCount: number; dueAt: number }
  | { type: "test"; channel: Named };

export type HubEventType = HubEvent["type"];

/** What the cooldown counts as "the same thing": a repository, a machine, a box, a plan. */
export function subjectKey(event: HubEvent): string {
  switch (event.type) {
    case "job.failed":
    case "job.warning":
    case "job.succeeded":
    case "job.started":
      return event.repository ? `repository:${event.repository.id}` : `job:${event.job.id}`;
    case "repository.overdue":
      return `repository:${event.repository.id}`;
    case "machine.offline":
      return `machine:${event.machine.id}`;
    case "box.offline":
    case "box.low_space":
      return `box:${event.box.id}`;
    case "plan.missed":
      return `plan:${event.plan.id}`;
    case "test":
      return `channel:${event.channel.id}`;
  }
}

const quoted = (thing: Named | undefined) => (thing ? `"${thing.name}"` : "");
const GIB = 1024 ** 3;

/** One line a person reads first (a mail subject, an ntfy title's body). */
export function summarize(event: HubEvent): string {
  switch (event.type) {
    case "job.failed":
    case "job.warning":
    case "job.succeeded":
    case "job.started": {
      const what = event.job.kind === "backup.create" ? "Backup" : `Job ${event.job.kind}`;
      const of = event.repository ? ` of ${quoted(event.repository)}` : "";
      const on = event.machine ? ` on ${quoted(event.machine)}` : "";
      const outcome = {
        "job.failed": `failed${event.job.errorMessage ? `: ${event.job.errorMessage}` : ""}`,
        "job.warning": "completed with warnings",
        "job.succeeded": "succeeded",
        "job.started": "started",
      }[event.type];
      return `${what}${of}${on} ${outcome}`;
    }
    case "repository.overdue":
      return `Repository ${quoted(event.repository)}${event.machine ? ` on ${quoted(event.machine)}` : ""} is overdue: ${
        event.lastSuccessAt === null
          ? "no successful backup yet"
          : `last successful backup ${toIso(event.lastSuccessAt)}`
      }`;
    case "machine.offline":
      return `Machine ${quoted(event.machine)} is offline${
        event.lastSeenAt === null ? "" : ` (last seen ${toIso(event.lastSeenAt)})`
      }`;
    case "box.offline":
      return `Storage box ${quoted(event.box)} is offline`;
    case "box.low_space":
      return `Storage box ${quoted(event.box)} is low on space: ${(event.freeBytes / GIB).toFixed(1)} GiB free of ${(event.totalBytes / GIB).toFixed(1)} GiB`;
    case "plan.missed":
      return `Plan ${quoted(event.plan)} of ${quoted(event.repository)} missed ${event.missedCount} due ${
        event.missedCount === 1 ? "time" : "times"
      } (the last at ${toIso(event.dueAt)})`;
    case "test":
      return `Test notification from borgctl for channel ${quoted(event.channel)}`;
  }
}

/** The hub page with the detail, under public_url; null when public_url is not set. */
function pageUrl(deps: HubDeps, event: HubEvent): string | null {
  const base = deps.settings.publicUrl;
  if (base === undefined) return null;
  const path = (() => {
    switch (event.type) {
      case "job.failed":
      case "job.warning":
      case "job.succeeded":
      case "job.started":
        return `/jobs/${event.job.id}`;
      case "repository.overdue":
        return `/repositories/${event.repository.id}`;
      case "plan.missed":
        return `/repositories/${event.repository.id}`;
      case "machine.offline":
        return "/machines";
      case "box.offline":
      case "box.low_space":
        return "/boxes";
      case "test":
        return "/settings";
    }
  })();
  // Relative to the base, so a hub served under a path (https://example.com/borg) keeps it.
  return new URL(path.slice(1), base.endsWith("/") ? base : `${base}/`).toString();
}

/** The message every channel kind renders from (stored whole in the outbox row). */
export function messageOf(deps: HubDeps, event: HubEvent, now: number): DeliveryMessage {
  const message: DeliveryMessage = {
    event: event.type,
    occurred_at: toIso(now),
    summary: summarize(event),
    url: pageUrl(deps, event),
  };
  switch (event.type) {
    case "job.failed":
    case "job.warning":
    case "job.succeeded":
    case "job.started":
      message.job = {
        id: event.job.id,
        kind: event.job.kind,
        status: event.job.status,
        error_message: event.job.errorMessage,
      };
      if (event.repository) message.repository = { ...event.repository };
      if (event.machine) message.machine = { ...event.machine };
      break;
    case "repository.overdue":
      message.repository = { ...event.repository };
      if (event.machine) message.machine = { ...event.machine };
      message.details = {
        overdue_since: toIso(event.overdueSince),
        last_success_at: toIsoOrNull(event.lastSuccessAt),
      };
      break;
    case "machine.offline":
      message.machine = { ...event.machine };
      message.details = { last_seen_at: toIsoOrNull(event.lastSeenAt) };
      break;
    case "box.offline":
      message.box = { ...event.box };
      message.details = { last_seen_at: toIsoOrNull(event.lastSeenAt) };
      break;
    case "box.low_space":
      message.box = { ...event.box };
      message.details = { free_bytes: event.freeBytes, total_bytes: event.totalBytes };
      break;
    case "plan.missed":
      message.plan = { ...event.plan };
      message.repository = { ...event.repository };
      message.details = { missed_count: event.missedCount, due_at: toIso(event.dueAt) };
      break;
    case "test":
      break;
  }
  return message;
}

/** Healthchecks' log tail (the /fail body): at most this many bytes of the job's last lines. */
export const MAX_LOG_TAIL_BYTES = 100 * 1024;
const LOG_TAIL_LINES = 2000;

async function logTail(deps: HubDeps, jobId: number): Promise<string> {
  const lines = (await deps.store.jobs.logTail(jobId, LOG_TAIL_LINES)).map((l) => l.message);
  // Keep the newest lines that fit, whole lines only.
  const kept: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const size = Buffer.byteLength(lines[i] as string, "utf8") + 1;
    if (bytes + size > MAX_LOG_TAIL_BYTES) break;
    kept.push(lines[i] as string);
    bytes += size;
  }
  return kept.reverse().join("\n");
}

type Ping = NonNullable<DeliveryMessage["ping"]>;

/**
 * A Healthchecks channel pings for backups (of its repository or plan, when it names
 * one): /start when a backup starts, the URL on success (warnings included), /fail on
 * failure, following the job.* events it lists. Cooldowns do not apply: each ping counts.
 */
function healthchecksPing(channel: NotificationChannelRow, event: HubEvent): Ping | undefined {
  if (
    event.type !== "job.started" &&
    event.type !== "job.succeeded" &&
    event.type !== "job.warning" &&
    event.type !== "job.failed"
  )
    return undefined;
  if (event.job.kind !== "backup.create") return undefined;
  const scope = channel.config as { repository_id?: number; plan_id?: number };
  if (scope.repository_id !== undefined && scope.repository_id !== event.repository?.id)
    return undefined;
  if (scope.plan_id !== undefined && scope.plan_id !== event.job.planId) return undefined;
  const listsJobEvents = channel.events.some((e) => e.startsWith("job."));
  if (event.type === "job.started") return listsJobEvents ? "start" : undefined;
  if (!channel.events.includes(event.type)) return undefined;
  return event.type === "job.failed" ? "fail" : "success";
}

/**
 * Enqueues `event` for `channel` unless its filter or cooldown holds it back; the row,
 * or undefined. Cooldown and row land in one transaction, so a replica racing the same
 * event gets the cooldown or nothing.
 */
async function enqueueFor(
  deps: HubDeps,
  channel: NotificationChannelRow,
  event: HubEvent,
  message: DeliveryMessage,
  now: number,
): Promise<number | undefined> {
  let toSend = message;
  let cooldown = channel.cooldownSeconds * 1000;
  if (event.type === "test") {
    cooldown = 0;
    if (channel.type === "healthchecks") toSend = { ...message, ping: "log" };
  } else if (channel.type === "healthchecks") {
    const ping = healthchecksPing(channel, event);
    if (ping === undefined) return undefined;
    cooldown = 0;
    toSend = { ...message, ping };
    if (ping === "fail" && "job" in event) toSend.log_tail = await logTail(deps, event.job.id);
  } else if (event.type === "job.started" || !channel.events.includes(event.type)) {
    return undefined;
  }
  return deps.store.transaction(async (tx) => {
    if (cooldown > 0) {
      const key = `${event.type}:${subjectKey(event)}`;
      if (!(await tx.notifications.takeCooldown(channel.id, key, now, now - cooldown + 1))) {
        return undefined;
      }
    }
    const row = await tx.notifications.insertDelivery(
      { channelId: channel.id, event: event.type, message: toSend, nextAttemptAt: now },
      now,
    );
    return row.id;
  });
}

/**
 * Publishes `event` to every enabled channel that wants it (see the header). Never
 * throws: a notification that cannot be queued is logged, and what the caller was doing
 * (finishing a job, sweeping machines) goes on. Returns the outbox row ids.
 */
export async function publishHubEvent(deps: HubDeps, event: HubEvent): Promise<number[]> {
  try {
    const now = deps.clock();
    const message = messageOf(deps, event, now);
    const channels = (await deps.store.notifications.listChannels()).filter((c) => c.enabled);
    const ids: number[] = [];
    for (const channel of channels) {
      const id = await enqueueFor(deps, channel, event, message, now);
      if (id !== undefined) ids.push(id);
    }
    if (ids.length > 0) deps.notificationWakeup.notify();
    return ids;
  } catch (error) {
    deps.logger.child("notifications").error("could not queue a notification", {
      event: event.type,
      error: (error as Error).message,
    });
    return [];
  }
}

/** POST /{id}/test: one "test" delivery to this channel, enabled or not, no cooldown. */
export async function enqueueTest(deps: HubDeps, channel: NotificationChannelRow): Promise<number> {
  const now = deps.clock();
  const event: HubEvent = { type: "test", channel: { id: channel.id, name: channel.name } };
  const id = await enqueueFor(deps, channel, event, messageOf(deps, event, now), now);
  if (id === undefined) throw new Error("a test delivery was not queued");
  deps.notificationWakeup.notify();
  return id;
}
