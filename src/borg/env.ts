/**
 * The environment every borg process gets: secrets (only here, never in argv), the ssh
 * command for remote repos, where borg keeps its cache/config, and answers to every
 * question borg could ask, so a run never waits on a prompt.
 *
 * Decisions:
 * - BORG_EXIT_CODES is not set. exit.ts classifies legacy (0/1/2) and modern (3–127)
 *   codes alike, so the result is right whatever the version's default is.
 * - TZ=UTC: borg 1.x prints naive local timestamps ("2026-11-22T06:21:38.000000");
 *   in UTC they mean the same on the hub as on the agent. Archive name placeholders
 *   such as {now} are then UTC too.
 * - BORG_HOSTNAME_IS_UNIQUE=yes as BORG.md asks. Only borg 1.1 read it (stale lock
 *   removal); 1.2.4 and 2.0.0b5 do not (checked: absent from their sources). Harmless.
 * - Lock waiting is an argv option (`--lock-wait`, commands/common.ts), not an env var:
 *   BORG_LOCK_WAIT exists in 2.x only (read by 2.0.0b5, absent from 1.2.4).
 */
import { AppError } from "../shared/errors.ts";

export interface BorgRshOptions {
  /** Absolute path of the private key. */
  keyFile: string;
  port?: number;
  /** Absolute path of the known_hosts file ssh reads and (with accept-new) writes. */
  knownHostsFile: string;
  strictHostKeyChecking: "yes" | "accept-new";
}

export interface BorgEnvOptions {
  /** Set as BORG_PASSPHRASE only when given. */
  passphrase?: string;
  /** Builds BORG_RSH; without it borg runs plain `ssh` for ssh:// repos. */
  rsh?: BorgRshOptions;
  /** BORG_BASE_DIR: borg's .cache/.config (keys, security dir) live under it. */
  baseDir?: string;
  /** Allow a known repo reached under a new location (default: no, borg aborts with rc 2). */
  relocatedOk?: boolean;
  /** Allow an unencrypted repo borg has not seen before (default: no). */
  unencryptedOk?: boolean;
}

export function buildBorgEnv(options: BorgEnvOptions = {}): Record<string, string> {
  const env: Record<string, string> = {
    LANG: "C.UTF-8",
    TZ: "UTC",
    BORG_HOSTNAME_IS_UNIQUE: "yes",
    BORG_RELOCATED_REPO_ACCESS_IS_OK: options.relocatedOk ? "yes" : "no",
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: options.unencryptedOk ? "yes" : "no",
    // Answers to borg's prompts: never show the passphrase, never delete a repo, never
    // repair unasked (check.ts overrides the last one for an explicit repair).
    BORG_DISPLAY_PASSPHRASE: "no",
    BORG_DELETE_I_KNOW_WHAT_I_AM_DOING: "NO",
    BORG_CHECK_I_KNOW_WHAT_I_AM_DOING: "NO",
  };
  if (options.passphrase !== undefined) env.BORG_PASSPHRASE = options.passphrase;
  if (options.baseDir !== undefined) {
    env.BORG_BASE_DIR = checkAbsolutePath("borg base dir", options.baseDir);
  }
  if (options.rsh !== undefined) env.BORG_RSH = buildBorgRsh(options.rsh);
  return env;
}

/**
 * The BORG_RSH command line. Borg splits it with Python's shlex.split, so each argument
 * is quoted with shlex's own rules. ssh splits the value of `-o UserKnownHostsFile=` once
 * more (it may list several files), so that path is also wrapped in double quotes when
 * it has whitespace (checked with OpenSSH 9.2: unquoted "/a b/known hosts" fails host
 * key verification, quoted it works).
 */
export function buildBorgRsh(rsh: BorgRshOptions): string {
  const keyFile = checkSshPath("ssh key file", rsh.keyFile);
  const knownHosts = checkSshPath("known hosts file", rsh.knownHostsFile);
  if (/["\\]/.test(knownHosts)) invalid("known hosts file path must not contain '\"' or '\\'");
  const argv = ["ssh", "-i", keyFile];
  if (rsh.port !== undefined) {
    if (!Number.isInteger(rsh.port) || rsh.port < 1 || rsh.port > 65535) {
      invalid(`ssh port must be an integer from 1 to 65535, got ${rsh.port}`);
    }
    argv.push("-p", String(rsh.port));
  }
  argv.push(
    "-o",
    "BatchMode=yes",
    // Only our key: one an ssh-agent offers first could be pinned to another repo on
    // the same box, and the forced command would then serve that repo instead.
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `StrictHostKeyChecking=${rsh.strictHostKeyChecking}`,
    "-o",
    `UserKnownHostsFile=${/\s/.test(knownHosts) ? `"${knownHosts}"` : knownHosts}`,
    // Borg has no network timeout of its own: without keepalives a dead link hangs a run.
    "-o",
    "ServerAliveInterval=30",
    "-o",
    "ServerAliveCountMax=4",
  );
  return argv.map(shellQuote).join(" ");
}

/** Python's shlex.quote: safe characters as they are, anything else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg === "") return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}

function invalid(message: string): never {
  throw new AppError("validation_failed", message);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function checkAbsolutePath(what: string, path: string): string {
  if (CONTROL_CHARS.test(path)) invalid(`${what} must not contain newlines or control characters`);
  if (!path.startsWith("/")) invalid(`${what} must be an absolute path, got "${path}"`);
  return path;
}

/** ssh expands %x tokens and ${VAR} in IdentityFile and UserKnownHostsFile paths. */
function checkSshPath(what: string, path: string): string {
  checkAbsolutePath(what, path);
  if (path.includes("%") || path.includes("${")) {
    invalid(`${what} must not contain "%" or "\${" (ssh would expand them)`);
  }
  return path;
}
