/** `borgctl agent service print|install|uninstall`: the agent as a systemd or launchd service. */
import { type ArgsDef, defineCommand } from "citty";
import { defaultConfigPath } from "../../../agent/state.ts";
import type { ServicePlatform } from "../../../shared/service/agent-service.ts";
import { UsageError, UserError } from "../../errors.ts";

const serviceArgs = {
  config: {
    type: "string",
    valueHint: "path",
    description:
      "Config the service runs with (default /etc/borgctl/agent.toml; /Library/Application Support/borgctl/agent.toml on macOS)",
  },
  binary: {
    type: "string",
    valueHint: "path",
    description: "Installed borgctl (default /usr/local/bin/borgctl)",
  },
} as const satisfies ArgsDef;

const rootArg = {
  root: {
    type: "string",
    valueHint: "dir",
    description:
      "Write under this directory instead of / and never run systemctl/launchctl (packaging, tests)",
  },
} as const satisfies ArgsDef;

function servicePlatform(requested?: string): ServicePlatform {
  const value = requested ?? process.platform;
  if (value === "linux" || value === "darwin") return value;
  throw new UsageError(
    `the agent service exists for linux (systemd) and darwin (launchd), not ${value}`,
  );
}

/** The service always runs as root, so its config is root's, whoever prints the unit. */
const serviceConfig = (platform: ServicePlatform, config?: string) =>
  config ?? defaultConfigPath({ env: {}, platform, uid: 0, home: "/var/root" });

/** Renderer input problems (a relative path, a path systemd would misread) are usage errors. */
async function serviceGuarded<T>(fn: () => Promise<T>): Promise<T> {
  const { AppError } = await import("../../../shared/errors.ts");
  try {
    return await fn();
  } catch (error) {
    if (error instanceof AppError) throw new UsageError(error.message);
    if (error instanceof Error && error.name === "ServiceCommandError")
      throw new UserError(error.message);
    throw error;
  }
}

export default defineCommand({
  meta: {
    name: "borgctl agent service",
    description: "The agent's systemd unit (Linux) or launchd job (macOS)",
  },
  subCommands: {
    print: defineCommand({
      meta: {
        name: "borgctl agent service print",
        description: "Print the systemd unit or launchd plist that runs the agent",
      },
      args: {
        ...serviceArgs,
        platform: {
          type: "enum",
          options: ["linux", "darwin"],
          description: "Print the service for this platform (default this machine's)",
        },
      },
      async run({ args }) {
        const platform = servicePlatform(args.platform);
        const { renderAgentService } = await import("../../../shared/service/agent-service.ts");
        const text = await serviceGuarded(async () =>
          renderAgentService(platform, {
            config: serviceConfig(platform, args.config),
            binary: args.binary,
          }),
        );
        process.stdout.write(text);
      },
    }),
    install: defineCommand({
      meta: {
        name: "borgctl agent service install",
        description:
          "Install the agent's service (systemd unit or launchd plist), enable and start it",
      },
      args: {
        ...serviceArgs,
        ...rootArg,
        start: {
          type: "boolean",
          default: true,
          description: "Enable and start the service (--no-start only writes it)",
        },
      },
      async run({ args }) {
        const platform = servicePlatform();
        const { installAgentService, systemServiceManager } = await import(
          "../../../shared/service/agent-service.ts"
        );
        const report = await serviceGuarded(() =>
          installAgentService({
            platform,
            config: serviceConfig(platform, args.config),
            binary: args.binary,
            root: args.root,
            start: args.start,
            manager: args.root ? undefined : systemServiceManager(platform),
          }),
        );
        console.log(report.notes.join("\n"));
      },
    }),
    uninstall: defineCommand({
      meta: {
        name: "borgctl agent service uninstall",
        description: "Stop the agent's service and remove its unit or plist (config is kept)",
      },
      args: rootArg,
      async run({ args }) {
        const platform = servicePlatform();
        const { uninstallAgentService, systemServiceManager } = await import(
          "../../../shared/service/agent-service.ts"
        );
        const report = await serviceGuarded(() =>
          uninstallAgentService({
            platform,
            root: args.root,
            manager: args.root ? undefined : systemServiceManager(platform),
          }),
        );
        console.log(report.notes.join("\n"));
      },
    }),
  },
});
