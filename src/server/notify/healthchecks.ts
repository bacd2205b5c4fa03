/**
 * Healthchecks (healthchecks.io or self-hosted): the check's ping URL gets `/start` when
 * a backup starts, the URL itself on success, `/fail` on failure with the job's log tail
 * (≤ 100 kB, hub-events.ts) as the body, and `/log` for "send test" (recorded by
 * Healthchecks without changing the check's state).
 */
import { type ChannelKind, postHttp } from "./kind.ts";

const SUFFIX = { start: "/start", success: "", fail: "/fail", log: "/log" } as const;

export function pingUrl(base: string, ping: keyof typeof SUFFIX): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${SUFFIX[ping]}`;
  return url.toString();
}

export const healthchecks: ChannelKind = {
  async send({ config, message, signal, version }) {
    const ping = message.ping ?? "log";
    const body = ping === "fail" ? (message.log_tail ?? message.summary) : message.summary;
    return postHttp(pingUrl(String(config.url), ping), {
      body,
      headers: { "content-type": "text/plain; charset=utf-8", "user-agent": `borgctl/${version}` },
      signal,
    });
  },
};
