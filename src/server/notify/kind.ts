/**
 * What one notification channel kind (webhook, ntfy, healthchecks, email) is to the
 * sender: a `send` that delivers one outbox message and says how it went. One file per
 * kind, listed in index.ts; notification-sender.ts (the outbox loop) knows no kind.
 *
 * Lifecycle of a send: called by the sender for a delivery it holds (claimed), with the
 * channel's config and its decrypted secrets; must settle before `signal` aborts (the
 * sender's per-attempt timeout, well inside the claim) and must not throw for a
 * receiver's failure: it answers { ok: false, error } and the sender schedules the retry.
 * The error text is redacted by the sender (secrets and URLs) before it is stored.
 */
import type { DeliveryMessage } from "../db/records.ts";

export interface SendResult {
  ok: boolean;
  /** The receiver's HTTP status, when it answered over HTTP. */
  httpStatus: number | null;
  /** Why it failed: an HTTP status line, a network error, an SMTP reply. */
  error: string | null;
}

export interface SendContext {
  /** The channel's stored config (no secrets). */
  config: Record<string, unknown>;
  /** The channel's secret fields, decrypted (webhook secret, ntfy token, SMTP password). */
  secrets: Record<string, string>;
  message: DeliveryMessage;
  /** The outbox row's id: the same on every retry, so a receiver can drop a duplicate. */
  deliveryId: number;
  signal: AbortSignal;
  /** The hub's version, for User-Agent and mail headers. */
  version: string;
}

export interface ChannelKind {
  send(context: SendContext): Promise<SendResult>;
}

/** POSTs to `url` without following redirects; any 2xx is delivered. */
export async function postHttp(
  url: string,
  init: { body: string; headers: Record<string, string>; signal: AbortSignal },
): Promise<SendResult> {
  try {
    const response = await fetch(url, {
      method: "POST",
      body: init.body,
      headers: init.headers,
      signal: init.signal,
      // A redirect would send the body (and its signature) somewhere nobody configured.
      redirect: "manual",
    });
    await response.body?.cancel().catch(() => {});
    if (response.status >= 200 && response.status < 300) {
      return { ok: true, httpStatus: response.status, error: null };
    }
    const redirected = response.status >= 300 && response.status < 400;
    return {
      ok: false,
      httpStatus: response.status,
      error: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${
        redirected ? " (redirects are not followed: configure the final URL)" : ""
      }`,
    };
  } catch (error) {
    const e = error as Error & { code?: string };
    const reason = e.name === "TimeoutError" || e.name === "AbortError" ? "timed out" : e.message;
    return { ok: false, httpStatus: null, error: e.code ? `${e.code}: ${reason}` : reason };
  }
}
