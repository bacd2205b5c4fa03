/**
 * Storage boxes as admins manage them: register (after the box answered /info with the
 * token given), read, change, delete, and the refresh that keeps each box's facts
 * (status, versions, space, host keys, its repo list) current — every minute from
 * start.ts and on GET /api/boxes/{id}. The token is sealed by SecretBox at rest, handed
 * to the logger's redactor whenever it is unsealed, and never returned or audited.
 */
import { AppError } from "../../shared/errors.ts";
import type { CreateBoxRequest, UpdateBoxRequest } from "../../shared/protocol/api.ts";
import { parseBorgLocation } from "../../shared/protocol/borg-values.ts";
import type { Info, Repo } from "../../shared/protocol/box.ts";
import { formatHostKeys, parseHostKeys } from "../../shared/ssh-host-keys.ts";
import type { BoxPatch, BoxRefresh, BoxRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import type { UserActor } from "./actor.ts";
import { audit } from "./audit.ts";
import { BoxCallError, type BoxClient, boxClient, normalizeBoxUrl } from "./box-client.ts";
import { publishHubEvent } from "./hub-events.ts";
import { boxRepoOf } from "./storage-evidence.ts";

/** How often start.ts refreshes every box. */
export const BOX_REFRESH_INTERVAL_MS = 60_000;

export async function getBox(deps: HubDeps, id: number): Promise<BoxRow> {
  const box = await deps.store.boxes.byId(id);
  if (!box) throw new AppError("not_found", `no box ${id}`);
  return box;
}

export const listBoxes = (deps: HubDeps): Promise<BoxRow[]> => deps.store.boxes.list();

/** A client for a stored box; the unsealed token is redacted from every log line. */
export async function clientForBox(
  deps: HubDeps,
  box: Pick<BoxRow, "id" | "url">,
): Promise<BoxClient> {
  const sealed = await deps.store.boxes.sealedToken(box.id);
  if (sealed === undefined) throw new AppError("not_found", `no box ${box.id}`);
  return clientFor(deps, box.url, deps.secretBox.decrypt(sealed));
}

function clientFor(deps: HubDeps, url: string, token: string): BoxClient {
  deps.logger.redactor.add(token);
  return boxClient(url, token);
}

/** The box's advertised host keys in stored form; unparsable ones are dropped (and said). */
function hostKeysOf(info: Info): { keys: string[]; problem?: string } {
  const advertised = info.ssh_host_keys ?? [];
  if (advertised.length === 0) return { keys: [] };
  const parsed = parseHostKeys(advertised.join("\n"));
  if (!parsed.ok) return { keys: [], problem: `its ssh_host_keys ${parsed.reason}` };
  return { keys: formatHostKeys(parsed.keys).split("\n") };
}

/** What /info and /repos say, as a refresh to store. */
async function readFacts(client: BoxClient, now: number): Promise<BoxRefresh> {
  const info = await client.info();
  const repos = await client.listRepos();
  const hostKeys = hostKeysOf(info);
  return {
    status: "online",
    lastError: hostKeys.problem ?? null,
    lastSeenAt: now,
    version: info.version,
    borgVersion: info.borg_version || null,
    freeBytes: info.free_bytes,
    totalBytes: info.total_bytes,
    repoCount: repos.length,
    sshHostKeys: hostKeys.keys,
    repos,
    reposListedAt: now,
  };
}

const refusal = (url: string, error: unknown) =>
  new AppError(
    "validation_failed",
    `the box at ${url} did not answer: ${error instanceof BoxCallError ? error.message : "unexpected failure"}`,
  );

interface SshTarget {
  sshHost: string;
  sshPort: number;
  sshUser: string;
}

/** ssh_user, ssh_host and ssh_port end up in ssh's argv: parse them as the location will be. */
function checkSshTarget(target: SshTarget): void {
  const parsed = parseBorgLocation(
    `ssh://${target.sshUser}@${target.sshHost}:${target.sshPort}/repo`,
  );
  if (!parsed.ok) {
    const field = /user/.test(parsed.reason)
      ? "ssh_user"
      : /port/.test(parsed.reason)
        ? "ssh_port"
        : "ssh_host";
    throw new AppError("validation_failed", `${field}: the SSH address ${parsed.reason}`, {
      field,
    });
  }
}

function checkUrl(text: string): string {
  const url = normalizeBoxUrl(text);
  if (!url) {
    throw new AppError(
      "validation_failed",
      "url: must be the box's http:// or https:// address, such as http://box.lan:9999",
      { field: "url" },
    );
  }
  return url;
}

export async function registerBox(
  deps: HubDeps,
  actor: UserActor,
  request: CreateBoxRequest,
): Promise<BoxRow> {
  const url = checkUrl(request.url);
  const target: SshTarget = {
    sshHost: request.ssh_host ?? new URL(url).hostname,
    sshPort: request.ssh_port,
    sshUser: request.ssh_user,
  };
  checkSshTarget(target);
  const now = deps.clock();
  let facts: BoxRefresh;
  try {
    facts = await readFacts(clientFor(deps, url, request.token), now);
  } catch (error) {
    throw refusal(url, error);
  }
  const created = await deps.store.boxes.insert({
    name: request.name,
    url,
    tokenEncrypted: deps.secretBox.encrypt(request.token),
    ...target,
    lastSeenAt: null,
    version: null,
    borgVersion: null,
    freeBytes: null,
    totalBytes: null,
    repoCount: null,
    sshHostKeys: [],
    repos: [],
    reposListedAt: null,
    ...facts,
  });
  if (!created) throw new AppError("conflict", `a box named "${request.name}" exists`);
  await audit(deps, {
    actor,
    action: "box.create",
    target: `box:${created.id}`,
    ip: actor.ip,
    details: { name: created.name, url: created.url, ssh_host_keys: created.sshHostKeys.length },
  });
  return created;
}

export async function updateBox(
  deps: HubDeps,
  actor: UserActor,
  id: number,
  request: UpdateBoxRequest,
): Promise<BoxRow> {
  const current = await getBox(deps, id);
  const url = request.url === undefined ? current.url : checkUrl(request.url);
  const target: SshTarget = {
    sshHost: request.ssh_host ?? current.sshHost,
    sshPort: request.ssh_port ?? current.sshPort,
    sshUser: request.ssh_user ?? current.sshUser,
  };
  checkSshTarget(target);
  const patch: BoxPatch = { name: request.name, ...target, url };
  let facts: BoxRefresh | undefined;
  // A new address or token is checked against the box before it replaces the old one.
  if (request.url !== undefined || request.token !== undefined) {
    const client =
      request.token === undefined
        ? await clientForBox(deps, { id, url })
        : clientFor(deps, url, request.token);
    try {
      facts = await readFacts(client, deps.clock());
    } catch (error) {
      throw refusal(url, error);
    }
    if (request.token !== undefined) patch.tokenEncrypted = deps.secretBox.encrypt(request.token);
  }
  const updated = await deps.store.boxes.update(id, patch, deps.clock());
  if (updated === "name_taken")
    throw new AppError("conflict", `a box named "${request.name}" exists`);
  if (!updated) throw new AppError("not_found", `no box ${id}`);
  const result = facts ? await deps.store.boxes.recordRefresh(id, facts, deps.clock()) : updated;
  await audit(deps, {
    actor,
    action: "box.update",
    target: `box:${id}`,
    ip: actor.ip,
    details: { fields: Object.keys(request).sort() },
  });
  return result ?? updated;
}

export async function deleteBox(deps: HubDeps, actor: UserActor, id: number): Promise<void> {
  const box = await getBox(deps, id);
  const removal = await deps.store.boxes.removeUnreferenced(id);
  if (removal.outcome === "not_found") throw new AppError("not_found", `no box ${id}`);
  if (removal.outcome === "referenced") {
    throw new AppError(
      "conflict",
      `box "${box.name}" holds ${removal.repositories} repositor${removal.repositories === 1 ? "y" : "ies"} of the hub; delete them first`,
      { repositories: removal.repositories },
    );
  }
  await audit(deps, {
    actor,
    action: "box.delete",
    target: `box:${id}`,
    ip: actor.ip,
    details: { name: box.name },
  });
}

/** Free space below `percent` of the total (0 turns the check off; unknown sizes never match). */
export function isLowOnSpace(box: Pick<BoxRow, "freeBytes" | "totalBytes">, percent: number) {
  if (percent <= 0 || box.freeBytes === null || box.totalBytes === null || box.totalBytes <= 0)
    return false;
  return (box.freeBytes / box.totalBytes) * 100 < percent;
}

/**
 * box.offline and box.low_space for what a refresh just stored. Published on every
 * refresh while the condition holds, not only on the change: as with repository.overdue,
 * each channel's cooldown (keyed by event and box) decides when people hear of it again.
 */
async function publishBoxEvents(deps: HubDeps, box: BoxRow): Promise<void> {
  const named = { id: box.id, name: box.name };
  if (box.status === "offline") {
    await publishHubEvent(deps, { type: "box.offline", box: named, lastSeenAt: box.lastSeenAt });
  } else if (isLowOnSpace(box, deps.settings.boxLowSpacePercent)) {
    await publishHubEvent(deps, {
      type: "box.low_space",
      box: named,
      freeBytes: box.freeBytes as number,
      totalBytes: box.totalBytes as number,
    });
  }
}

/**
 * Reads the box's facts now and stores them: online with the facts, or offline with the
 * reason (its last known facts kept). A change of status is logged once, not every minute;
 * box.offline / box.low_space are published on every refresh that finds them (cooldowns).
 */
export async function refreshBox(deps: HubDeps, box: BoxRow): Promise<BoxRow> {
  let refresh: BoxRefresh;
  try {
    refresh = await readFacts(await clientForBox(deps, box), deps.clock());
  } catch (error) {
    if (error instanceof AppError && error.code === "not_found") throw error;
    const reason = error instanceof BoxCallError ? error.message : "unexpected failure";
    if (!(error instanceof BoxCallError)) {
      deps.logger.error("box refresh failed", { box: box.id, error: (error as Error).message });
    }
    refresh = { status: "offline", lastError: reason };
  }
  if (refresh.status !== box.status) {
    deps.logger.child("boxes").info(`box is ${refresh.status}`, {
      box: box.id,
      name: box.name,
      reason: refresh.lastError ?? undefined,
    });
  }
  const stored = await deps.store.boxes.recordRefresh(box.id, refresh, deps.clock());
  if (stored) await publishBoxEvents(deps, stored);
  return stored ?? box;
}

export async function refreshedBox(deps: HubDeps, id: number): Promise<BoxRow> {
  return refreshBox(deps, await getBox(deps, id));
}

/** The background pass: every box, one after the other (a slow box delays only the pass). */
export async function refreshAllBoxes(deps: HubDeps): Promise<void> {
  for (const box of await deps.store.boxes.list()) {
    try {
      await refreshBox(deps, box);
    } catch (error) {
      if (!(error instanceof AppError && error.code === "not_found")) throw error;
    }
  }
}

/** At most this many repos of the hub are read fresh per GET /api/boxes/{id}/repos. */
const FRESH_REPO_READS = 20;

/**
 * The box's own repo list, refreshed now, each with the hub repository using it. The box
 * serves its list from a cache (a walk per repo is slow), so the repos of the hub's own
 * repositories are read one by one (GET /repos/{name} is always fresh): a backup that
 * just finished shows its write here at once.
 */
export async function boxRepos(
  deps: HubDeps,
  id: number,
): Promise<{ repos: (Repo & { repositoryId: number | null })[]; listedAt: number | null }> {
  const box = await refreshedBox(deps, id);
  const repositories = (await deps.store.repositories.list()).filter((r) => r.boxId === id);
  const ownerOf = (repo: Repo) =>
    repositories.find((r) => boxRepoOf(box, [repo], r.location) !== undefined)?.id ?? null;
  let repos = box.repos;
  if (box.status === "online") {
    const client = await clientForBox(deps, box);
    const owned = repos.filter((repo) => ownerOf(repo) !== null).slice(0, FRESH_REPO_READS);
    const fresh = new Map<string, Repo>();
    for (const repo of owned) {
      try {
        fresh.set(repo.name, await client.getRepo(repo.name));
      } catch {
        // the listed facts stand
      }
    }
    repos = repos.map((repo) => fresh.get(repo.name) ?? repo);
  }
  return {
    repos: repos.map((repo) => ({ ...repo, repositoryId: ownerOf(repo) })),
    listedAt: box.reposListedAt,
  };
}
