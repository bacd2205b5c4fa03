/**
 * Webhook: POST of the message as JSON (API.md: event, occurred_at, summary, url,
 * repository?, machine?, job?, …) with `X-Borgctl-Signature: sha256=<hex HMAC-SHA256 of
 * the raw body>` under the channel's secret, when it has one. Receivers verify the
 * signature over the exact bytes received, before parsing them.
 */
import { createHmac } from "node:crypto";
import type { DeliveryMessage } from "../db/records.ts";
import { type ChannelKind, postHttp } from "./kind.ts";

export const SIGNATURE_HEADER = "X-Borgctl-Signature";

export const signBody = (secret: string, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;

/** The webhook body: the message without the Healthchecks-only fields. */
export function webhookBody(message: DeliveryMessage): string {
  const { ping: _ping, log_tail: _tail, ...body } = message;
  return JSON.stringify(body);
}

export const webhook: ChannelKind = {
  async send({ config, secrets, message, signal, version }) {
    const body = webhookBody(message);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": `borgctl/${version}`,
    };
    if (secrets.secret) headers[SIGNATURE_HEADER] = signBody(secrets.secret, body);
    return postHttp(String(config.url), { body, headers, signal });
  },
};
