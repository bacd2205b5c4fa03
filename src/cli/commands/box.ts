/** `borgctl box`: the borgbox-compatible storage daemon. */
import { homedir } from "node:os";
import { defineCommand } from "citty";
import { BOX_CONFIG_FIELDS, boxConfigSchema } from "../../shared/config/box.ts";
import { loadConfig } from "../../shared/config/load.ts";
import { configArg, logLevelArg } from "../args.ts";
import { commandLogger } from "../logger.ts";

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
});
