/** `borgctl box`: the borgbox-compatible storage daemon. */
import { homedir } from "node:os";
import { defineCommand } from "citty";
import { BOX_CONFIG_FIELDS, boxConfigSchema } from "../../shared/config/box.ts";
import { loadConfig } from "../../shared/config/load.ts";
import { configArg, logLevelArg } from "../args.ts";
import { UsageError } from "../errors.ts";
import { commandLogger } from "../logger.ts";

/** `borgctl box service print`: the systemd unit install.sh installs (one source of truth). */
const service = defineCommand({
  meta: { name: "borgctl box service", description: "The box's systemd unit" },
  subCommands: {
    print: defineCommand({
      meta: {
        name: "borgctl box service print",
        description: "Print the hardened systemd unit (borgctl-box.service) for these paths",
      },
      args: {
        binary: {
          type: "string",
          valueHint: "path",
          description: "Installed borgctl (default /usr/local/bin/borgctl)",
        },
        user: { type: "string", description: "System user and group (default borg)" },
        home: {
          type: "string",
          valueHint: "dir",
          description: "The user's home (default /var/lib/borg)",
        },
        "repo-root": {
          type: "string",
          valueHint: "dir",
          description: "Where repo directories live (default <home>/repos)",
        },
        "auth-keys": {
          type: "string",
          valueHint: "file",
          description: "authorized_keys file (default <home>/.ssh/authorized_keys)",
        },
        "env-file": {
          type: "string",
          valueHint: "file",
          description:
            "Environment file with BORGBOX_ADDR and BORGBOX_TOKEN (default /etc/borgctl/box.env)",
        },
      },
      async run({ args }) {
        const { renderBoxUnit } = await import("../../shared/service/box-unit.ts");
        const { AppError } = await import("../../shared/errors.ts");
        try {
          process.stdout.write(
            renderBoxUnit({
              binary: args.binary,
              user: args.user,
              home: args.home,
              repoRoot: args["repo-root"],
              authKeys: args["auth-keys"],
              envFile: args["env-file"],
            }),
          );
        } catch (error) {
          if (error instanceof AppError) throw new UsageError(error.message);
          throw error;
        }
      },
    }),
  },
});

export default defineCommand({
  meta: {
    name: "borgctl box",
    description:
      "Run the storage box daemon (borgbox-compatible API): repo directories, pinned SSH keys, maintenance jobs",
  },
  args: {
    ...configArg,
    addr: {
      type: "string",
      valueHint: "host:port",
      description: "Listen address [env BORGBOX_ADDR] (default :9999)",
    },
    "repo-root": {
      type: "string",
      valueHint: "dir",
      description: "Where repo directories live [env BORGBOX_REPO_ROOT] (default ~/repos)",
    },
    "auth-keys": {
      type: "string",
      valueHint: "file",
      description:
        "authorized_keys file the box manages [env BORGBOX_AUTH_KEYS] (default ~/.ssh/authorized_keys)",
    },
    token: {
      type: "string",
      valueHint: "token|@file",
      description: "Bearer token; @path reads it from a file [env BORGBOX_TOKEN]",
    },
    "borg-path": {
      type: "string",
      valueHint: "path",
      description: "borg binary for maintenance jobs [env BORGBOX_BORG_PATH] (default borg)",
    },
    "ssh-host": {
      type: "string",
      valueHint: "host[:port]",
      description:
        "How clients reach this box over SSH; adds ssh_url to repos [env BORGBOX_SSH_HOST]",
    },
    "ssh-host-keys": {
      type: "string",
      valueHint: "file,…",
      description:
        "SSH host key files /info advertises for the hub to pin; comma-separated, * globs [env BORGBOX_SSH_HOST_KEYS] (default /etc/ssh/ssh_host_*_key.pub)",
    },
    ...logLevelArg,
  },
  async run({ args }) {
    const home = homedir();
    const config = await loadConfig(boxConfigSchema(home), BOX_CONFIG_FIELDS, {
      role: "box",
      file: args.config ? { path: args.config, required: true } : undefined,
      env: process.env,
      flags: args,
    });
    const logger = commandLogger(config.log_level, "box");
    logger.redactor.add(config.token);
    const { startBox } = await import("../../box/start.ts");
    const box = await startBox(config, { logger });
    await box.stopped;
  },
  subCommands: { service },
});
