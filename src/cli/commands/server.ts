/** `borgctl server`: the hub. */
import { homedir } from "node:os";
import { defineCommand } from "citty";
import { defaultDataDir } from "../../shared/config/common.ts";
import { HUB_CONFIG_FIELDS, hubConfigSchema } from "../../shared/config/hub.ts";
import { loadConfig } from "../../shared/config/load.ts";
import { configArg, logLevelArg } from "../args.ts";
import { UsageError, UserError } from "../errors.ts";
import { commandLogger } from "../logger.ts";

/** `borgctl server service print`: the systemd unit install.sh installs (one source of truth). */
const service = defineCommand({
  meta: { name: "borgctl server service", description: "The hub's systemd unit" },
  subCommands: {
    print: defineCommand({
      meta: {
        name: "borgctl server service print",
        description: "Print the hardened systemd unit (borgctl-server.service) for these paths",
      },
      args: {
        binary: {
          type: "string",
          valueHint: "path",
          description: "Installed borgctl (default /usr/local/bin/borgctl)",
        },
        user: { type: "string", description: "System user and group (default borgctl)" },
        "data-dir": {
          type: "string",
          valueHint: "dir",
          description: "Database and secret key (default /var/lib/borgctl/server)",
        },
        "env-file": {
          type: "string",
          valueHint: "file",
          description: "Environment file with BORGCTL_ADDR etc. (default /etc/borgctl/server.env)",
        },
      },
      async run({ args }) {
        const { renderServerUnit } = await import("../../shared/service/server-unit.ts");
        const { AppError } = await import("../../shared/errors.ts");
        try {
          process.stdout.write(
            renderServerUnit({
              binary: args.binary,
              user: args.user,
              dataDir: args["data-dir"],
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
    name: "borgctl server",
    description: "Run the hub: API, web UI, machines, repositories and the job queue",
  },
  args: {
    ...configArg,
    addr: {
      type: "string",
      valueHint: "host:port",
      description:
        "Listen address [env BORGCTL_ADDR] (default 127.0.0.1:8080; use :8080 to expose it)",
    },
    "data-dir": {
      type: "string",
      valueHint: "dir",
      description:
        "Database and secret key [env BORGCTL_DATA_DIR] (default ~/.local/share/borgctl)",
    },
    "public-url": {
      type: "string",
      valueHint: "url",
      description:
        "How agents and browsers reach the hub: install commands, allowed Origin, Secure cookie if https, links in notifications [env BORGCTL_PUBLIC_URL]",
    },
    "tls-cert": {
      type: "string",
      valueHint: "file",
      description: "Serve HTTPS with this certificate (PEM) [env BORGCTL_TLS_CERT]",
    },
    "tls-key": {
      type: "string",
      valueHint: "file",
      description: "…and this private key (PEM) [env BORGCTL_TLS_KEY]",
    },
    "trusted-proxies": {
      type: "string",
      valueHint: "cidr,…",
      description:
        "Reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For/-Proto are believed [env BORGCTL_TRUSTED_PROXIES] (default none)",
    },
    "box-low-space-percent": {
      type: "string",
      valueHint: "percent",
      description:
        "Notify box.low_space when a storage box's free space is below this share of its total; 0 turns it off [env BORGCTL_BOX_LOW_SPACE_PERCENT] (default 10)",
    },
    "download-max-bytes": {
      type: "string",
      valueHint: "bytes",
      description:
        "The largest single file the web UI downloads through the hub (bigger ones are restored onto a machine); 0 turns downloads off [env BORGCTL_DOWNLOAD_MAX_BYTES] (default 1073741824, 1 GiB)",
    },
    "replica-url": {
      type: "string",
      valueHint: "url",
      description:
        "With several replicas: the URL the other replicas reach this one at (e.g. http://10.0.0.5:8080), so a download's chunks reaching another replica are handed on [env BORGCTL_REPLICA_URL]",
    },
    "database-url": {
      type: "string",
      valueHint: "url",
      description:
        "Keep all state in PostgreSQL (postgres://user:pass@host/db), shared by several hubs; default SQLite in the data dir [env BORGCTL_DATABASE_URL, BORGCTL_DATABASE_URL_FILE, or @file]",
    },
    "check-database": {
      type: "boolean",
      description:
        "Connect to the database, apply pending migrations, check the secret key against it, print the result and exit",
    },
    ...logLevelArg,
  },
  async run({ args }) {
    const home = homedir();
    const config = await loadConfig(
      hubConfigSchema(home, defaultDataDir(process.env)),
      HUB_CONFIG_FIELDS,
      {
        role: "server",
        file: args.config ? { path: args.config, required: true } : undefined,
        env: process.env,
        flags: args,
      },
    );
    const logger = commandLogger(config.log_level, "hub");
    logger.redactor.add(config.admin_password);
    logger.redactor.add(config.secret_key);
    logger.redactor.add(config.metrics_token);
    if (config.database_url !== undefined) {
      logger.redactor.add(config.database_url);
      const password = new URL(config.database_url).password;
      if (password !== "") {
        logger.redactor.add(password);
        logger.redactor.add(decodeURIComponent(password));
      }
    }
    const { startHub, checkDatabase } = await import("../../server/start.ts");
    const { DatabaseUnreachableError } = await import("../../server/db/pg/connect.ts");
    const { SecretKeyMismatchError } = await import("../../server/db/secret-key-check.ts");
    try {
      if (args["check-database"]) {
        const checked = await checkDatabase(config, logger);
        const migrated =
          checked.applied.length > 0
            ? `migrations applied now: ${checked.applied.join(", ")}`
            : "schema current";
        process.stdout.write(
          `database ok: ${checked.description} (${migrated}; secret key matches)\n`,
        );
        return;
      }
      const hub = await startHub(config, {
        logger,
        announce: (text) => process.stdout.write(`${text}\n`),
      });
      await hub.stopped;
    } catch (error) {
      if (error instanceof DatabaseUnreachableError || error instanceof SecretKeyMismatchError) {
        throw new UserError(error.message);
      }
      throw error;
    }
  },
  subCommands: { service },
});
