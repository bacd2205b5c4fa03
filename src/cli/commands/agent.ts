/** `borgctl agent …`: enroll this machine with a hub and run its backup jobs. */
import { homedir } from "node:os";
import { type ArgsDef, defineCommand } from "citty";
import { defaultConfigPath, defaultStateDir } from "../../agent/state.ts";
import { buildInfo } from "../../shared/build-info.ts";
import type { LogLevel } from "../../shared/log.ts";
import type { ServicePlatform } from "../../shared/service/agent-service.ts";
import { logLevelArg } from "../args.ts";
import { UsageError, UserError } from "../errors.ts";
import { commandLogger } from "../logger.ts";

const platform = () => ({
  env: process.env,
  platform: process.platform,
  uid: process.getuid?.(),
  home: homedir(),
});

const common = {
  config: {
    type: "string",
    valueHint: "path",
    description:
      "Agent config file [env BORGCTL_AGENT_CONFIG] (default /etc/borgctl/agent.toml as root, ~/.config/borgctl/agent.toml otherwise)",
  },
  json: { type: "boolean", description: "Print JSON instead of text" },
  ...logLevelArg,
} as const satisfies ArgsDef;

function env(args: { "log-level"?: string }) {
  const level = (args["log-level"] ?? process.env.BORGCTL_LOG_LEVEL ?? "info") as LogLevel;
  const logger = commandLogger(level, "agent");
  return { env: process.env, logger, version: buildInfo().version };
}

const configPath = (args: { config?: string }) => args.config ?? defaultConfigPath(platform());

/** Agent errors are the user's to fix: print the message, not a stack. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
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

const print = (json: boolean | undefined, value: unknown, text: string) =>
  console.log(json ? JSON.stringify(value) : text);

const register = defineCommand({
  meta: {
    name: "borgctl agent register",
    description: "Enroll this machine with a hub using an enrollment token",
  },
  args: {
    server: {
      type: "string",
      valueHint: "url",
      description: "The hub's URL, e.g. https://backup.example.com",
      required: true,
    },
    token: {
      type: "string",
      valueHint: "borgctl_enroll_…",
      description: "Enrollment token from the hub (one use)",
      required: true,
    },
    name: { type: "string", description: "Name shown in the hub (default: hostname)" },
    "state-dir": {
      type: "string",
      valueHint: "dir",
      description: "Keys, borg cache and outbox (default /var/lib/borgctl/agent as root)",
    },
    insecure: { type: "boolean", description: "Allow plain http:// to a hub on another machine" },
    ...common,
  },
  async run({ args }) {
    const e = env(args);
    const { registerAgent } = await import("../../agent/start.ts");
    const config = await guarded(() =>
      registerAgent(
        {
          serverUrl: args.server,
          token: args.token,
          name: args.name,
          configPath: configPath(args),
          stateDir: args["state-dir"] ?? defaultStateDir(platform()),
          insecure: args.insecure ?? false,
        },
        e,
      ),
    );
    print(
      args.json,
      { agent_id: config.agent_id, server_url: config.server_url, config: configPath(args) },
      `Registered as ${config.agent_id} with ${config.server_url}.\nConfig: ${configPath(args)}\nNext: run "borgctl agent run" (or install the service) so the hub can give this machine work.`,
    );
  },
});

const status = defineCommand({
  meta: {
    name: "borgctl agent status",
    description: "Show this agent's identity, hub reachability, borg binaries and running job",
  },
  args: common,
  async run({ args }) {
    const e = env(args);
    const { loadAgent, hubReachable } = await import("../../agent/start.ts");
    const { findBorgBinaries } = await import("../../agent/borg-binaries.ts");
    const { readFile } = await import("node:fs/promises");
    const agent = await guarded(() => loadAgent(configPath(args), e));
    const [hub, borgs, current] = await Promise.all([
      hubReachable(agent.config.server_url),
      findBorgBinaries(process.env.PATH),
      readFile(agent.paths.currentJobFile, "utf8").then(
        (t) => JSON.parse(t).job_id as number,
        () => null,
      ),
    ]);
    const value = {
      server_url: agent.config.server_url,
      agent_id: agent.config.agent_id,
      config: agent.configPath,
      state_dir: agent.paths.stateDir,
      hub_reachable: hub.ok,
      hub_version: hub.version ?? null,
      borg: borgs.map((b) => ({ version: b.version.raw, path: b.path })),
      running_job_id: current,
    };
    print(
      args.json,
      value,
      [
        `agent       ${value.agent_id}`,
        `hub         ${value.server_url} (${hub.ok ? `reachable, version ${hub.version}` : `NOT reachable: ${hub.error}`})`,
        `config      ${value.config}`,
        `state       ${value.state_dir}`,
        `borg        ${value.borg.map((b) => `${b.version} (${b.path})`).join(", ") || "none found"}`,
        `running job ${current ?? "none"}`,
      ].join("\n"),
    );
    if (!hub.ok) process.exitCode = 1;
  },
});

const run = defineCommand({
  meta: {
    name: "borgctl agent run",
    description:
      "Run the agent: heartbeat, poll for jobs, run borg (long-lived; stops on SIGTERM/SIGINT)",
  },
  args: common,
  async run({ args }) {
    const e = env(args);
    const { loadAgent, createRuntime } = await import("../../agent/start.ts");
    const agent = await guarded(() => loadAgent(configPath(args), e));
    const runtime = await createRuntime(agent, e);
    const stop = new AbortController();
    const onSignal = (signal: string) => {
      e.logger.info(`received ${signal}: no new jobs; a running job gets a grace period`);
      stop.abort();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    e.logger.info(`agent ${agent.config.agent_id} running`, { hub: agent.config.server_url });
    const outcome = await runtime.run(stop.signal);
    if (outcome.stopped === "revoked") throw new UserError(outcome.message);
    e.logger.info("stopped");
  },
});

const once = defineCommand({
  meta: {
    name: "borgctl agent once",
    description: "Poll once, run at most one job, exit with its outcome (for debugging)",
  },
  args: {
    wait: {
      type: "string",
      valueHint: "seconds",
      description: "How long to wait for a job (default 5)",
    },
    ...common,
  },
  async run({ args }) {
    const e = env(args);
    const wait = args.wait === undefined ? 5 : Number(args.wait);
    if (!Number.isInteger(wait) || wait < 0 || wait > 30)
      throw new UsageError("--wait must be 0 to 30 seconds");
    const { loadAgent, createRuntime } = await import("../../agent/start.ts");
    const agent = await guarded(() => loadAgent(configPath(args), e));
    // On a terminal, a live progress line; never in JSON mode or when piped.
    const live = Boolean(process.stderr.isTTY) && !args.json;
    const { progressLine } = await import("../progress-line.ts");
    const runtime = await createRuntime(agent, e, {
      onProgress: live
        ? (_id, p) =>
            process.stderr.write(`\r\x1b[2K${progressLine(p, (process.stderr.columns ?? 100) - 1)}`)
        : undefined,
    });
    const outcome = await guarded(() => runtime.once(wait));
    if (live) process.stderr.write("\n");
    if (!outcome) {
      print(args.json, { job: null }, "No job was waiting.");
      return;
    }
    print(
      args.json,
      outcome,
      `Job finished: ${outcome.kind}${outcome.kind === "fail" ? ` (${outcome.body.error_message})` : ""}`,
    );
    if (outcome.kind !== "complete") process.exitCode = 1;
  },
});

const unregister = defineCommand({
  meta: {
    name: "borgctl agent unregister",
    description: "Tell the hub to forget this agent, then remove the local credential",
  },
  args: common,
  async run({ args }) {
    const e = env(args);
    const { loadAgent, unregisterAgent } = await import("../../agent/start.ts");
    const agent = await guarded(() => loadAgent(configPath(args), e));
    const outcome = await unregisterAgent(agent);
    print(
      args.json,
      { unregistered: true, hub_informed: outcome.hubInformed },
      outcome.hubInformed
        ? "Unregistered: the hub revoked this agent and the local credential is removed."
        : `Local credential removed, but the hub could not be told (${outcome.reason}); revoke the machine in the hub.`,
    );
  },
});

const repoArg = {
  repository: {
    type: "positional",
    description: "Repository name (as in the hub)",
    required: true,
  },
} as const;

const secret = defineCommand({
  meta: {
    name: "borgctl agent secret",
    description: "Passphrases this machine keeps itself (never sent to the hub)",
  },
  subCommands: {
    set: defineCommand({
      meta: {
        name: "borgctl agent secret set",
        description: "Store a repository passphrase, read from standard input",
      },
      args: { ...repoArg, ...common },
      async run({ args }) {
        const e = env(args);
        const { loadAgent } = await import("../../agent/start.ts");
        const { AgentSecrets } = await import("../../agent/secrets.ts");
        const agent = await guarded(() => loadAgent(configPath(args), e));
        if (process.stdin.isTTY)
          process.stderr.write(
            `Passphrase for ${args.repository} (input is not hidden; end with Enter): `,
          );
        const line = (await new Response(Bun.stdin.stream()).text()).split(/\r?\n/)[0] ?? "";
        if (!line) throw new UsageError("no passphrase on standard input");
        await new AgentSecrets(agent.paths.secretsFile).set(args.repository, line);
        print(
          args.json,
          { repository: args.repository, stored: true },
          `Stored the passphrase for ${args.repository}.`,
        );
      },
    }),
    remove: defineCommand({
      meta: { name: "borgctl agent secret remove", description: "Forget a repository passphrase" },
      args: { ...repoArg, ...common },
      async run({ args }) {
        const e = env(args);
        const { loadAgent } = await import("../../agent/start.ts");
        const { AgentSecrets } = await import("../../agent/secrets.ts");
        const agent = await guarded(() => loadAgent(configPath(args), e));
        const removed = await new AgentSecrets(agent.paths.secretsFile).remove(args.repository);
        if (!removed) throw new UserError(`no passphrase stored for ${args.repository}`);
        print(
          args.json,
          { repository: args.repository, removed: true },
          `Removed the passphrase for ${args.repository}.`,
        );
      },
    }),
  },
});

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
  const { AppError } = await import("../../shared/errors.ts");
  try {
    return await fn();
  } catch (error) {
    if (error instanceof AppError) throw new UsageError(error.message);
    if (error instanceof Error && error.name === "ServiceCommandError")
      throw new UserError(error.message);
    throw error;
  }
}

const service = defineCommand({
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
        const { renderAgentService } = await import("../../shared/service/agent-service.ts");
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
          "../../shared/service/agent-service.ts"
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
          "../../shared/service/agent-service.ts"
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

export default defineCommand({
  meta: {
    name: "borgctl agent",
    description: "Enroll this machine with a hub and run its backup jobs",
  },
  subCommands: { register, status, run, once, unregister, secret, service },
});
