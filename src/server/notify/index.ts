/**
 * Every notification channel kind, by its protocol type. Typed over
 * NotificationChannelType, so a new type in the protocol does not compile until it has
 * a module here.
 */
import type { NotificationChannelType } from "../../shared/protocol/api.ts";
import { email } from "./email.ts";
import { healthchecks } from "./healthchecks.ts";
import type { ChannelKind } from "./kind.ts";
import { ntfy } from "./ntfy.ts";
import { webhook } from "./webhook.ts";

export const CHANNEL_KINDS: { [T in NotificationChannelType]: ChannelKind } = {
  webhook,
  ntfy,
  healthchecks,
  email,
};
