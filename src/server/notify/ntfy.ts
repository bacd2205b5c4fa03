/**
 * ntfy: POST of the summary (and the hub's link) as the body to the topic URL, with
 * Title, Priority, Tags and Click headers and, when the channel has a token,
 * `Authorization: Bearer <token>`. Header values are ASCII; a title with other
 * characters is sent RFC 2047-encoded, which ntfy decodes.
 */
import type { DeliveryMessage } from "../db/records.ts";
import { type ChannelKind, postHttp } from "./kind.ts";

const TAGS: Record<string, string> = {
  "job.failed": "x",
  "job.warning": "warning",
  "job.succeeded": "white_check_mark",
  "repository.overdue": "hourglass",
  "machine.offline": "electric_plug",
  "box.offline": "electric_plug",
  "box.low_space": "floppy_disk",
  "plan.missed": "calendar",
  test: "bell",
};

/** Failures default to high priority, the rest to ntfy's default. */
const defaultPriority = (event: string) =>
  event === "job.failed" || event === "repository.overdue" ? 4 : 3;

const asciiHeader = (text: string) =>
  /^[\x20-\x7e]*$/.test(text)
    ? text
    : `=?UTF-8?B?${Buffer.from(text, "utf8").toString("base64")}?=`;

export function ntfyRequest(
  message: DeliveryMessage,
  config: Record<string, unknown>,
  token: string | undefined,
) {
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=utf-8",
    title: asciiHeader(`borgctl: ${message.event}`),
    priority: String(
      typeof config.priority === "number" ? config.priority : defaultPriority(message.event),
    ),
    tags: TAGS[message.event] ?? "bell",
  };
  if (message.url) headers.click = message.url;
  if (token) headers.authorization = `Bearer ${token}`;
  const body = message.url ? `${message.summary}\n${message.url}` : message.summary;
  return { headers, body };
}

export const ntfy: ChannelKind = {
  async send({ config, secrets, message, signal, version }) {
    const { headers, body } = ntfyRequest(message, config, secrets.token);
    headers["user-agent"] = `borgctl/${version}`;
    return postHttp(String(config.url), { body, headers, signal });
  },
};
