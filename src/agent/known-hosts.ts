/**
 * The known_hosts text for one job's pinned host keys. The hub sends the keys as text; the
 * agent parses them and renders the lines itself for the host of the job's own location,
 * so what the hub sends can pin keys for that host and nothing else (no markers, no
 * wildcard patterns, no extra lines). undefined: nothing pinned, use the agent's own file.
 */

import type { RepositoryRef } from "../shared/protocol/agent.ts";
import { parseBorgLocation } from "../shared/protocol/borg-values.ts";
import { parseHostKeys, renderKnownHosts } from "../shared/ssh-host-keys.ts";

export function pinnedKnownHosts(repository: RepositoryRef): string | undefined {
  if (!repository.ssh_host_key) return undefined;
  const location = parseBorgLocation(repository.location, repository.borg_version);
  // A local repository needs no host key; a bad location is refused by the borg builders.
  if (!location.ok || location.location.kind !== "ssh") return undefined;
  const keys = parseHostKeys(repository.ssh_host_key);
  if (!keys.ok) throw new Error(`the repository's pinned host key ${keys.reason}`);
  return renderKnownHosts(keys.keys, location.location.host, location.location.port);
}
