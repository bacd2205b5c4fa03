/**
 * Webhook: POST of the message as JSON (API.md: event, occurred_at, summary, url,
 * repository?, machine?, job?, …) with `X-Borgctl-Signature: sha256=<hex HMAC-SHA256 of
 * the raw body>` under the channel's secret, when it has one, plus X-Borgctl-Event and
 * X-Borgctl-Delivery (the outbox id, the same on every retry). Receivers verify the
 * signature over the exact bytes received, before parsing them.
 */
import { createHmac } from "node:crypto";
import type { DeliveryMessage } from "../db/records.ts";
import { type ChannelKind, postHttp } from "./kind.ts";

export const SIGNATURE_HEADER = "X-Borgctl-Signature";
export const EVENT_HEADER = "X-Borgctl-Event";
export const DELIVERY_HEADER = "X-Borgctl-Delivery";

export const signBody = (secret: string, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;

/** The webhook body: the message without the Healthchecks-only fields. */
export function webhookBody(message: DeliveryMessage): string {
  const { ping: _ping, log_tail: _tail, ...body } = message;
  return JSON.stringify(body);
}

export const webhook: ChannelKind = {
  async send({ config, secrets, message, deliveryId, signal, version }) {
    const body = webhookBody(message);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": `borgctl/${version}`,
      [EVENT_HEADER]: message.event,
      // Delivery is at least once: the same id on a retry lets the receiver drop it.
      [DELIVERY_HEADER]: String(deliveryId),
    };
    if (secrets.secret) headers[SIGNATURE_HEADER] = signBody(secrets.secret, body);
    return postHttp(String(config.url), { body, headers, signal });
  },
};
