/**
 * The box's own SSH host keys, advertised in GET /info as `ssh_host_keys` so that a hub can
 * pin them for the machines that back up here (no trust on first use). The files are
 * named by `ssh_host_keys` in the config: comma-separated paths, each may hold a `*`
 * glob (default /etc/ssh/ssh_host_*_key.pub). They are read on every /info call, so a
 * rotated key is advertised without a restart; a file that is missing or does not parse
 * is skipped (and logged once per reason), never passed through as text.
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "../shared/log.ts";
import { formatHostKeys, parseHostKeys } from "../shared/ssh-host-keys.ts";

export const DEFAULT_SSH_HOST_KEYS = "/etc/ssh/ssh_host_*_key.pub";

/** Splits the config value into paths (blank parts dropped). */
export const hostKeyPatterns = (value: string): string[] =>
  value
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");

async function expand(pattern: string): Promise<string[]> {
  if (!pattern.includes("*")) return [pattern];
  const dir = dirname(pattern);
  const glob = new Bun.Glob(pattern.slice(dir.length + 1));
  const found: string[] = [];
  try {
    for await (const name of glob.scan({ cwd: dir, onlyFiles: true })) found.push(`${dir}/${name}`);
  } catch {
    // An unreadable or missing directory advertises nothing from it.
  }
  return found.sort();
}

export function hostKeyReader(
  patterns: readonly string[],
  logger: Logger,
): () => Promise<string[]> {
  const reported = new Set<string>();
  const warnOnce = (message: string) => {
    if (reported.has(message)) return;
    reported.add(message);
    logger.warn(message);
  };
  return async () => {
    const keys: string[] = [];
    for (const pattern of patterns) {
      for (const path of await expand(pattern)) {
        let text: string;
        try {
          text = await readFile(path, "utf8");
        } catch (error) {
          warnOnce(`ssh host key ${path} is not readable: ${(error as Error).message}`);
          continue;
        }
        const parsed = parseHostKeys(text);
        if (!parsed.ok) {
          warnOnce(`ssh host key ${path} ${parsed.reason}; not advertised`);
          continue;
        }
        for (const line of formatHostKeys(parsed.keys).split("\n")) {
          if (!keys.includes(line)) keys.push(line);
        }
      }
    }
    return keys;
  };
}
