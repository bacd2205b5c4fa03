/**
 * A repository's pinned SSH host keys: parsed on the hub when a user enters them, and
 * rendered into known_hosts lines by the agent itself. The text the hub stores or sends is
 * never written to known_hosts as it is, so it cannot add a `@cert-authority` or `@revoked`
 * marker, a wildcard host pattern, or a second line: the agent writes exactly
 * `HOST TYPE BASE64` for the host it is about to connect to.
 *
 * Accepted input: one key per line, each either a public key (`TYPE BASE64 [comment]`,
 * as in /etc/ssh/ssh_host_ed25519_key.pub) or a known_hosts line (`HOSTS TYPE BASE64`, as
 * `ssh-keyscan` prints; the host field is dropped). Blank lines and `#` comments are skipped.
 */
import { type ParsedSshKey, parseSshPublicKey, SSH_KEY_TYPES } from "./ssh-key.ts";

export type HostKeysResult = { ok: true; keys: ParsedSshKey[] } | { ok: false; reason: string };

const MAX_HOST_KEYS = 16;

export function parseHostKeys(input: string): HostKeysResult {
  const keys: ParsedSshKey[] = [];
  const lines = input.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = lines.length > 1 ? `line ${index + 1}: ` : "";
    if (line.startsWith("@")) {
      return { ok: false, reason: `${where}markers such as @cert-authority are not accepted` };
    }
    const tokens = line.split(/\s+/);
    // A known_hosts line has its host field first; a public key line starts with the type.
    const keyPart =
      !SSH_KEY_TYPES.includes(tokens[0] ?? "") && SSH_KEY_TYPES.includes(tokens[1] ?? "")
        ? tokens.slice(1).join(" ")
        : line;
    const parsed = parseSshPublicKey(keyPart);
    if (!parsed.ok) return { ok: false, reason: `${where}${parsed.reason}` };
    keys.push(parsed.key);
  }
  if (keys.length === 0) return { ok: false, reason: "holds no host key" };
  if (keys.length > MAX_HOST_KEYS) {
    return { ok: false, reason: `holds ${keys.length} keys; at most ${MAX_HOST_KEYS}` };
  }
  return { ok: true, keys };
}

/** The stored form: `TYPE BASE64` per line, nothing else. */
export const formatHostKeys = (keys: readonly ParsedSshKey[]): string =>
  keys.map((k) => `${k.type} ${k.base64}`).join("\n");

/**
 * known_hosts lines for one host, in ssh's own form: `host` on port 22, `[host]:port`
 * otherwise (and always bracketed for an IPv6 address with a port). `host` comes from a
 * parsed location (shared/protocol/borg-values.ts), so it holds no pattern characters.
 */
export function renderKnownHosts(
  keys: readonly ParsedSshKey[],
  host: string,
  port: number | undefined,
): string {
  const name = port === undefined || port === 22 ? host : `[${host}]:${port}`;
  return keys.map((k) => `${name} ${k.type} ${k.base64}\n`).join("");
}
