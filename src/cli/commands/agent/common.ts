/** What every `borgctl agent …` command shares: where the config is, flags, logger, error mapping, output. */
import { homedir } from "node:os";
import type { ArgsDef } from "citty";
import { defaultConfigPath } from "../../../agent/state.ts";
import { buildInfo } from "../../../shared/build-info.ts";
import type { LogLevel } from "../../../shared/log.ts";
import { logLevelArg } from "../../args.ts";
import { UsageError, UserError } from "../../errors.ts";
import { commandLogger } from "../../logger.ts";

export const platform = () => ({
  env: process.env,
  platform: process.platform,
  uid: process.getuid?.(),
  home: homedir(),
});

export const common = {
  config: {
    type: "string",
    valueHint: "path",
    description:
      "Agent config file [env BORGCTL_AGENT_CONFIG] (default /etc/borgctl/agent.toml as root, ~/.config/borgctl/agent.toml otherwise)",
  },
  json: { type: "boolean", description: "Print JSON instead of text" },
  ...logLevelArg,
} as const satisfies ArgsDef;

export function agentEnv(args: { "log-level"?: string }) {
  const level = (args["log-level"] ?? process.env.BORGCTL_LOG_LEVEL ?? "info") as LogLevel;
  const logger = commandLogger(level, "agent");
  return { env: process.env, logger, version: buildInfo().version };
}

export const configPath = (args: { config?: string }) =>
  args.config ?? defaultConfigPath(platform());

/** Agent errors are the user's to fix: print the message, not a stack. */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const name = (error as Error).name;
    if (
      ["AgentStateError", "AgentRejected", "HubUnavailable", "HubRefused", "ConfigError"].includes(
        name,
      )
    ) {
      if (name === "ConfigError") throw error;
      throw new UserError((error as Error).message);
    }
    if (
      error instanceof Error &&
      /refusing plain HTTP|is not a URL|must start with https/.test(error.message)
    ) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}

export const print = (json: boolean | undefined, value: unknown, text: string) =>
  console.log(json ? JSON.stringify(value) : text);
