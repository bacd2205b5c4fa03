/**
 * Values that reach borg's argv, parsed as what they are, in one place for both sides:
 * repository locations, archive names, compression specs, patterns and paths.
 *
 * Repository locations, parsed as what they are. The hub checks a location when a user
 * enters it (400 naming the field) and the agent checks it again before borg runs, with
 * this same parser: a hub is not trusted blindly.
 *
 * Why parse instead of pattern-check: borg hands the host (and user, port) of an ssh
 * location to ssh as plain arguments, and ssh reads an argument that begins with "-" as an
 * option, so `ssh://-oProxyCommand=CMD/repo` runs CMD on the agent (as root). A check like
 * "does not start with -" misses `ssh://x@-oProxyCommand=…` and friends; a user name that
 * must be a user name and a host that must be a DNS name, an IPv4 address or a bracketed
 * IPv6 address leaves ssh nothing to misread.
 *
 * Accepted forms (../shared/design/API.md, borg's own syntax):
 *   /absolute/path                    a path on the agent's machine
 *   ssh://[user@]host[:port]/path     borg 1 and 2
 *   [user@]host:path                  scp style, borg 1 only (borg 2 removed it)
 * Anything else (a relative path, `~/x`, `file://`, `sftp://`, …) is refused.
 */
import { z } from "zod";

export type BorgLocation =
  | { kind: "local"; path: string }
  | {
      kind: "ssh";
      /** "url": ssh://…; "scp": user@host:path. */
      form: "url" | "scp";
      user: string | undefined;
      /** A DNS name, an IPv4 address, or an IPv6 address without its brackets. */
      host: string;
      port: number | undefined;
      path: string;
    };

export type LocationParse = { ok: true; location: BorgLocation } | { ok: false; reason: string };

// C0 controls and DEL: a newline or NUL in a location is never meant.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** A POSIX-style user name: what useradd accepts, never starting with "-" or ".". */
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}$/;
const HOSTNAME = z.hostname();
const IPV4 = z.ipv4();
const IPV6 = z.ipv6();
const DIGITS_AND_DOTS = /^[0-9.]+$/;

// ssh://[user@]host[:port]/path — each part is taken loosely here and checked below.
const SSH_URL = /^ssh:\/\/(?:([^@/]*)@)?(\[[^\]/]*\]|[^:/[\]]*)(?::([^/]*))?(\/.*)$/s;
// [user@]host:path, where host has no "/" (else borg reads a local path).
const SCP = /^(?:([^@/:]*)@)?(\[[^\]/]*\]|[^:/[\]@]+):(.+)$/s;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

export function parseBorgLocation(input: string, borgVersion: 1 | 2 = 1): LocationParse {
  const fail = (reason: string): LocationParse => ({ ok: false, reason });
  if (input === "") return fail("is empty");
  if (CONTROL_CHARS.test(input)) return fail("contains a control character");
  if (input.trim() !== input) return fail("has leading or trailing whitespace");

  // Said plainly, because it is the attack: borg or ssh would read it as an option.
  if (input.startsWith("-")) return fail(`must not start with "-"`);
  // borg 1 splits REPO::ARCHIVE at "::" (only a bracketed IPv6 host may hold one).
  if (borgVersion === 1 && input.replace(/\[[^\]]*\]/, "").includes("::")) {
    return fail(`must not contain "::" (borg 1 reads what follows as an archive name)`);
  }
  return parseForm(input, borgVersion);
}

function parseForm(input: string, borgVersion: 1 | 2): LocationParse {
  const fail = (reason: string): LocationParse => ({ ok: false, reason });
  if (input.startsWith("/")) return { ok: true, location: { kind: "local", path: input } };

  const url = SSH_URL.exec(input);
  if (url) return sshLocation("url", url[1], url[2] as string, url[3], url[4] as string);
  if (input.startsWith("ssh://")) return fail("is not ssh://[user@]host[:port]/path");
  if (SCHEME.test(input)) {
    return fail("must be an absolute path, ssh://[user@]host[:port]/path or user@host:path");
  }

  const scp = SCP.exec(input);
  if (scp) {
    if (borgVersion === 2) {
      return fail("user@host:path is not understood by borg 2: use ssh://user@host/path");
    }
    return sshLocation("scp", scp[1], scp[2] as string, undefined, scp[3] as string);
  }
  return fail("must be an absolute path, ssh://[user@]host[:port]/path or user@host:path");
}

function sshLocation(
  form: "url" | "scp",
  user: string | undefined,
  rawHost: string,
  rawPort: string | undefined,
  path: string,
): LocationParse {
  const fail = (reason: string): LocationParse => ({ ok: false, reason });
  if (user !== undefined && !USER_NAME.test(user)) {
    return fail(
      `has an invalid user name ${JSON.stringify(user)}: 1-32 of A-Z a-z 0-9 . _ -, not starting with "-" or "."`,
    );
  }
  const host = parseHost(rawHost);
  if (host === undefined) {
    return fail(
      `has an invalid host ${JSON.stringify(rawHost)}: use a DNS name, an IPv4 address or a bracketed IPv6 address`,
    );
  }
  let port: number | undefined;
  if (rawPort !== undefined) {
    port = /^[0-9]{1,5}$/.test(rawPort) ? Number(rawPort) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) {
      return fail(`has an invalid port ${JSON.stringify(rawPort)}: use 1-65535`);
    }
  }
  if (form === "url" && path === "/") return fail("names no repository path after the host");
  // The remote path travels inside borg's RPC, not as an argument, but a leading "-"
  // is never a repository and would be an option wherever a path is an argument.
  if (path.startsWith("-")) return fail(`has a path that starts with "-"`);
  return { ok: true, location: { kind: "ssh", form, user, host, port, path } };
}

function parseHost(raw: string): string | undefined {
  if (raw.startsWith("[")) {
    const inner = raw.slice(1, -1);
    return raw.endsWith("]") && IPV6.safeParse(inner).success ? inner : undefined;
  }
  // Something that looks like an address must be a valid one (not "999.1.1.1").
  if (DIGITS_AND_DOTS.test(raw)) return IPV4.safeParse(raw).success ? raw : undefined;
  // A DNS name: labels of letters, digits and inner hyphens, so never a leading "-".
  if (raw.length > 253 || !HOSTNAME.safeParse(raw).success) return undefined;
  return raw.endsWith(".") ? undefined : raw;
}

/** The canonical string of a parsed location (what borg is given). */
export function formatBorgLocation(location: BorgLocation): string {
  if (location.kind === "local") return location.path;
  const user = location.user === undefined ? "" : `${location.user}@`;
  const host = location.host.includes(":") ? `[${location.host}]` : location.host;
  if (location.form === "scp") return `${user}${host}:${location.path}`;
  const port = location.port === undefined ? "" : `:${location.port}`;
  return `ssh://${user}${host}${port}${location.path}`;
}

// --- the other values that reach borg's argv -------------------------------------------
// Each returns why the value is refused, or undefined. The argv builders (src/borg) also
// put options in `--name=value` form and positionals after `--`; these checks make a bad
// value a clear 400 at the hub instead of a failed job, and a refusal on the agent.

/** borg's --keep-within interval: a number and a unit (hours, days, weeks, months, years). */
export const KEEP_WITHIN = /^[1-9][0-9]{0,5}[Hdwmy]$/;

/** An archive name (or name template such as "{hostname}-{now}"). */
export function archiveNameProblem(name: string): string | undefined {
  if (name === "") return "is empty";
  if (CONTROL_CHARS.test(name)) return "contains a control character";
  if (name.includes("/")) return `must not contain "/"`;
  if (name.startsWith("-")) return `must not start with "-"`;
  if (name.includes("::")) return `must not contain "::"`;
  return undefined;
}

/** borg's compression spec: lz4, zstd,3, auto,zstd,10, obfuscate,110,zstd,3 … */
const COMPRESSION_SPEC = /^(none|lz4|zstd|zlib|lzma|auto|obfuscate)(,[a-z0-9]+)*$/;
export function compressionProblem(spec: string): string | undefined {
  return COMPRESSION_SPEC.test(spec)
    ? undefined
    : "must be a borg compression spec such as lz4, zstd,3 or auto,zstd,10";
}

/** An exclude pattern or archive glob: any text, but one line. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern === "") return "is empty";
  if (CONTROL_CHARS.test(pattern)) return "contains a control character";
  return undefined;
}

/** A path on the agent's machine (a backup source, a restore destination): absolute, one line. */
export function absolutePathProblem(path: string): string | undefined {
  if (path === "") return "is empty";
  if (CONTROL_CHARS.test(path)) return "contains a control character";
  if (!path.startsWith("/")) return "must be an absolute path (starting with /)";
  return undefined;
}

/**
 * A path inside an archive, as borg stores it: relative (borg strips the leading "/";
 * one given with it, or with a trailing "/", is accepted and means the same), no "." or ".." segment (a restore
 * must not climb out of its destination), no empty segment, one line.
 */
export function archivePathProblem(path: string): string | undefined {
  if (CONTROL_CHARS.test(path)) return "contains a control character";
  const relative = archiveMemberPath(path);
  if (relative === "") return "is empty";
  if (relative.split("/").some((segment) => segment === "" || segment === "." || segment === ".."))
    return 'must not have an empty, "." or ".." segment';
  return undefined;
}

/** The archive's own spelling of a member path: no leading or trailing "/". */
export function archiveMemberPath(path: string): string {
  return path.replace(/^\/+/, "").replace(/\/+$/, "");
}
