/**
 * `borgctl box` configuration, borgbox-compatible: BORGBOX_ADDR, BORGBOX_REPO_ROOT,
 * BORGBOX_AUTH_KEYS, BORGBOX_TOKEN (a leading "@" reads a file) and matching flags, plus
 * borgctl's own BORGBOX_SSH_HOST_KEYS (the host keys /info advertises for pinning).
 */
import { z } from "zod";
import { ListenAddrSchema } from "./addr.ts";
import { LogLevelSchema, pathSchema } from "./common.ts";
import type { ConfigField } from "./load.ts";

/** borgbox's installer writes 40-character tokens; anything guessable is refused. */
export const MIN_TOKEN_LENGTH = 16;

export const boxConfigSchema = (home: string) =>
  z.strictObject({
    addr: ListenAddrSchema.prefault(":9999"),
    repo_root: pathSchema(home).prefault(`${home}/repos`),
    auth_keys: pathSchema(home).prefault(`${home}/.ssh/authorized_keys`),
    token: z
      .string({
        error: "is required: set BORGBOX_TOKEN, --token, or token_file in the config file",
      })
      .min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`)
      .refine((t) => /^[\x21-\x7e]+$/.test(t), "must be printable ASCII without spaces"),
    borg_path: z.string().min(1).default("borg"),
    // How clients reach this box over SSH ("host" or "host:port"); when set, repos carry ssh_url.
    ssh_host: z
      .string()
      .regex(/^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/, "must be HOST or HOST:PORT")
      .optional(),
    // Files whose host keys /info advertises (comma-separated, `*` globs): the hub pins them.
    ssh_host_keys: z
      .string()
      .refine((v) => !v.includes("\0"), "must not contain NUL")
      .default("/etc/ssh/ssh_host_*_key.pub"),
    log_level: LogLevelSchema.default("info"),
  });

export type BoxConfig = z.infer<ReturnType<typeof boxConfigSchema>>;

export const BOX_CONFIG_FIELDS: readonly ConfigField[] = [
  { key: "addr", env: "BORGBOX_ADDR", flag: "addr" },
  { key: "repo_root", env: "BORGBOX_REPO_ROOT", flag: "repo-root" },
  { key: "auth_keys", env: "BORGBOX_AUTH_KEYS", flag: "auth-keys" },
  { key: "token", env: "BORGBOX_TOKEN", flag: "token", secret: true },
  { key: "borg_path", env: "BORGBOX_BORG_PATH", flag: "borg-path" },
  { key: "ssh_host", env: "BORGBOX_SSH_HOST", flag: "ssh-host" },
  { key: "ssh_host_keys", env: "BORGBOX_SSH_HOST_KEYS", flag: "ssh-host-keys" },
  { key: "log_level", env: "BORGBOX_LOG_LEVEL", flag: "log-level" },
];
