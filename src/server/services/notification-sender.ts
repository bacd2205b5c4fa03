/**
 * The notification sender: delivers the outbox (notification_deliveries) that
 * hub-events.ts fills, with retries, on every hub replica at once.
 *
 * Lifecycle:
 * 1. start.ts calls startNotificationSender(deps) after the store is open; it runs passes
 *    until stop() (called before the store closes), which waits for the pass in flight
 *    for up to STOP_WAIT_MS.
 * 2. A pass claims up to CLAIM_BATCH due rows (pending and due, or "sending" whose claim
 *    ran out: a sender that died mid-attempt) with one guarded UPDATE each, under this
 *    pass's random claim token for CLAIM_MS. Of several replicas exactly one gets a row.
 * 3. Each claimed row is sent by its channel's kind (server/notify) with the channel's
 *    decrypted secrets, within ATTEMPT_TIMEOUT_MS (well inside CLAIM_MS).
 * 4. The attempt is recorded under the token (outcome, HTTP status or error, redacted):
 *    sent; or pending again at now + RETRY_DELAYS_MS[attempt − 1]; or failed after the
 *    last one. A sender whose claim was taken over records nothing (the other sends).
 * 5. Once an hour it deletes sent and failed rows older than DELIVERY_RETENTION_MS.
 * 6. Between passes it sleeps until the next due row (at most IDLE_MS), or until a
 *    publish on this replica wakes it (NotificationWakeup). Other replicas' rows are
 *    found by the next pass, at most IDLE_MS later.
 *
 * Delivery is at least once: a hub that dies between a receiver's 200 and recording it
 * sends that message again after the claim expires. Nothing is lost across a restart:
 * every row is in the database until it is sent or has failed for good.
 * Tests drive runNotificationPass(deps) with a fake clock instead of the loop.
 */
import { randomBytes } from "node:crypto";
import type { NotificationChannelRow, NotificationDeliveryRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { CHANNEL_KINDS } from "../notify/index.ts";
import type { SendResult } from "../notify/kind.ts";
import { channelSecrets } from "./notification-channels.ts";

/**
 * Waits after each failed attempt: 8 attempts over about 98 minutes (API.md: at least 5
 * over at least 10 minutes), so a receiver down for an upgrade or a reboot still gets it.
 */
export const RETRY_DELAYS_MS = [
  30_000,
  60_000,
  2 * 60_000,
  5 * 60_000,
  10 * 60_000,
  20 * 60_000,
  60 * 60_000,
] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
export const ATTEMPT_TIMEOUT_MS = 30_000;
export const CLAIM_MS = 2 * 60_000;
const CLAIM_BATCH = 10;
const IDLE_MS = 5_000;
const STOP_WAIT_MS = 3_000;
const MAX_ERROR_CHARS = 500;

/** Error text without the channel's secrets or URLs (which may carry a token). */
export function redactAttemptError(
  error: string,
  channel: NotificationChannelRow,
  secrets: Record<string, string>,
): string {
  let text = error;
  const hidden = [
    ...Object.values(secrets),
    ...["url", "smtp_url"].map((k) => channel.config[k]).filter((v) => typeof v === "string"),
  ] as string[];
  for (const value of hidden.sort((a, b) => b.length - a.length)) {
    // Every secret, however short: an unreadable error beats a leaked password.
    if (value.length > 0) text = text.split(value).join("[redacted]");
  }
  // Any URL left (a redirect target, a resolver's message) loses its user info, path and query.
  text = text.replace(/\b(https?|smtps?):\/\/([^/\s@]+@)?([^/\s]+)[^\s]*/g, "$1://$3/…");
  return text.slice(0, MAX_ERROR_CHARS);
}

async function attempt(
  deps: HubDeps,
  delivery: NotificationDeliveryRow,
): Promise<{ result: SendResult; channel?: NotificationChannelRow }> {
  const channel = await deps.store.notifications.channelById(delivery.channelId);
  if (!channel) return { result: { ok: false, httpStatus: null, error: "channel deleted" } };
  if (!channel.enabled && delivery.event !== "test") {
    return { result: { ok: false, httpStatus: null, error: "channel is disabled" }, channel };
  }
  let secrets: Record<string, string>;
  try {
    secrets = channelSecrets(deps, channel);
  } catch {
    const error = "the channel's secret cannot be decrypted with this hub's secret key";
    return { result: { ok: false, httpStatus: null, error }, channel };
  }
  const signal = AbortSignal.timeout(ATTEMPT_TIMEOUT_MS);
  try {
    const result = await CHANNEL_KINDS[channel.type].send({
      config: channel.config,
      secrets,
      message: delivery.message,
      deliveryId: delivery.id,
      signal,
      version: deps.version,
    });
    return {
      result: {
        ...result,
        error: result.error === null ? null : redactAttemptError(result.error, channel, secrets),
      },
      channel,
    };
  } catch (error) {
    const text = redactAttemptError((error as Error).message, channel, secrets);
    return { result: { ok: false, httpStatus: null, error: text }, channel };
  }
}

/** One attempt of one held delivery, recorded; the row as it is afterwards. */
async function deliver(
  deps: HubDeps,
  delivery: NotificationDeliveryRow,
  claimToken: string,
): Promise<NotificationDeliveryRow | undefined> {
  const { result, channel } = await attempt(deps, delivery);
  const now = deps.clock();
  const attemptNumber = delivery.attempts + 1;
  // A deleted or disabled channel is final: retrying would only repeat the refusal.
  const final = !channel || (!channel.enabled && delivery.event !== "test");
  const delay = RETRY_DELAYS_MS[attemptNumber - 1];
  const nextAttemptAt = result.ok || final || delay === undefined ? null : now + delay;
  const recorded = await deps.store.notifications.recordAttempt(
    delivery.id,
    claimToken,
    {
      attempt: { at: now, ok: result.ok, httpStatus: result.httpStatus, error: result.error },
      nextAttemptAt,
    },
    now,
  );
  const log = deps.logger.child("notifications");
  const fields = {
    delivery: delivery.id,
    channel: delivery.channelId,
    event: delivery.event,
    attempt: attemptNumber,
    http_status: result.httpStatus ?? undefined,
  };
  if (!recorded) log.warn("lost the claim of a delivery while sending it", fields);
  else if (result.ok) log.info("notification sent", fields);
  else if (nextAttemptAt === null)
    log.warn("notification failed for good", { ...fields, error: result.error });
  else log.info("notification attempt failed; will retry", { ...fields, error: result.error });
  return recorded;
}

/**
 * One pass: claim what is due now and attempt each once: channels concurrently, each
 * channel's deliveries in order (oldest due first), so a receiver that cares about order
 * (Healthchecks: /start before /fail) hears them as they happened. Returns the rows as
 * recorded. Tests call this after moving the fake clock.
 */
export async function runNotificationPass(deps: HubDeps): Promise<NotificationDeliveryRow[]> {
  const now = deps.clock();
  const claimToken = randomBytes(12).toString("hex");
  const claimed = await deps.store.notifications.claimDue(
    now,
    claimToken,
    now + CLAIM_MS,
    CLAIM_BATCH,
  );
  const byChannel = Map.groupBy(claimed, (d) => d.channelId);
  const results = await Promise.all(
    [...byChannel.values()].map(async (inOrder) => {
      const recorded: (NotificationDeliveryRow | undefined)[] = [];
      for (const d of inOrder) recorded.push(await deliver(deps, d, claimToken));
      return recorded;
    }),
  );
  return results.flat().filter((r): r is NotificationDeliveryRow => r !== undefined);
}

/** Sent and failed deliveries are kept this long for the delivery log, then deleted. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;

export interface RunningSender {
  stop(): Promise<void>;
}

/** The sender loop (see the lifecycle above). */
export function startNotificationSender(deps: HubDeps): RunningSender {
  const stopping = new AbortController();
  const log = deps.logger.child("notifications");
  let prunedAt = 0;
  const loop = async () => {
    while (!stopping.signal.aborted) {
      if (deps.clock() - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = deps.clock();
        await deps.store.notifications
          .removeFinishedBefore(prunedAt - DELIVERY_RETENTION_MS)
          .catch((error: Error) =>
            log.warn("pruning old deliveries failed", { error: error.message }),
          );
      }
      let claimedFull = false;
      try {
        claimedFull = (await runNotificationPass(deps)).length >= CLAIM_BATCH;
      } catch (error) {
        log.error("notification pass failed", { error: (error as Error).message });
      }
      if (stopping.signal.aborted) break;
      if (claimedFull) continue; // more may be due right now
      let wait = IDLE_MS;
      try {
        const next = await deps.store.notifications.nextDueAt();
        if (next !== undefined) wait = Math.max(0, Math.min(IDLE_MS, next - deps.clock()));
      } catch {
        // The store is unreachable: try again after the idle wait.
      }
      await deps.notificationWakeup.wait(wait, stopping.signal);
    }
  };
  const running = loop();
  return {
    async stop() {
      stopping.abort();
      // An attempt in flight may take up to ATTEMPT_TIMEOUT_MS; shutdown does not wait that
      // long. A claim left unrecorded expires (CLAIM_MS) and is sent again by the next sender.
      await Promise.race([running, Bun.sleep(STOP_WAIT_MS)]);
    },
  };
}
