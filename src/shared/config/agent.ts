/**
 * `borgctl agent` configuration, written by `agent register` and read by the other
 * agent commands. It holds a credential, so the file must be 0600 (state.ts checks).
 */
import { z } from "zod";
import { LogLevelSchema } from "./common.ts";
import type { ConfigField } from "./load.ts";

export const agentConfigSchema = z.strictObject({
  server_url: z.url({ error: "must be the hub's URL, e.g. https://backup.example.com" }),
  agent_id: z.string().min(1),
  agent_token: z.string().startsWith("borgctl_agent_", "is not an agent token"),
  name: z.string().min(1).max(128).optional(),
  /** Keys, known_hosts, borg's cache and the outbox live here. */
  state_dir: z.string().min(1),
  /** Plain HTTP to a hub that is not on this machine: only when asked for. */
  insecure: z.boolean().default(false),
  poll_wait_seconds: z.coerce.number().int().min(1).max(30).default(25),
  heartbeat_interval_seconds: z.coerce.number().int().min(5).max(3600).default(30),
  log_level: LogLevelSchema.default("info"),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** The file is the source; the environment may override the hub URL, token and log level (e.g. in a container). */
export const AGENT_CONFIG_FIELDS: readonly ConfigField[] = [
  { key: "server_url", env: "BORGCTL_SERVER_URL", flag: "server" },
  { key: "agent_token", env: "BORGCTL_AGENT_TOKEN", secret: true },
  { key: "log_level", env: "BORGCTL_LOG_LEVEL", flag: "log-level" },
];
