/**
 * Browsing an archive from the hub (GET /api/repositories/{id}/archives/{archive}/tree).
 *
 * The cache lives in the Store (archive_listings + archive_listing_entries), not in the
 * hub's memory or its data dir: every replica on a shared PostgreSQL serves the same
 * listings, a listing survives a hub restart, and an agent's chunks may land on any
 * replica. Archives are immutable, so a listing is built once (one archive.browse job)
 * and kept until evicted, least recently browsed first, by the cache's entry budget
 * (settings.archiveCacheMaxEntries).
 *
 * Flow: a tree request finds the archive's ready listing and answers one level (or a
 * search); with none, an operator's request queues archive.browse on the owning agent and
 * answers 202 {job_id} (a second request while it runs gets the same job). The agent
 * uploads chunks (storeListingChunk) into the job's building listing; the job's
 * completion publishes it (server/jobs/archive-browse.ts).
 */
import { AppError } from "../../shared/errors.ts";
import { type ListingChunk, TERMINAL_JOB_STATUSES } from "../../shared/protocol/agent.ts";
import {
  archiveMemberPath,
  archiveNameProblem,
  archivePathProblem,
} from "../../shared/protocol/borg-values.ts";
import type { ArchiveEntryRow, ArchiveListingRow, JobRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import type { AgentActor, UserActor } from "./actor.ts";
import { renewUploadLease } from "./job-runtime.ts";
import { queueJobOfKind } from "./jobs.ts";
import { getRepository } from "./repositories.ts";

/** At most this many entries in one answer (API.md). */
export const MAX_TREE_ENTRIES = 10_000;

export interface TreeEntry {
  name: string;
  type: ArchiveEntryRow["type"];
  size: number;
  mtime: string | null;
  mode: string | null;
}

export type TreeAnswer =
  | { kind: "tree"; path: string; entries: (TreeEntry & { path?: string })[]; truncated: boolean }
  | { kind: "queued"; job: JobRow };

/** "a/b/c" → parent "a/b", name "c"; "a" → parent "", name "a". */
export function splitMemberPath(path: string): { parent: string; name: string } {
  const slash = path.lastIndexOf("/");
  return slash < 0
    ? { parent: "", name: path }
    : { parent: path.slice(0, slash), name: path.slice(slash + 1) };
}

/** Every directory above a member path, as placeholder entries ("a/b/c" → "a", "a/b"). */
export function ancestorsOf(path: string): { parent: string; name: string }[] {
  const parts = path.split("/");
  const out: { parent: string; name: string }[] = [];
  for (let i = 0; i < parts.length - 1; i++) {
    out.push({ parent: parts.slice(0, i).join("/"), name: parts[i] as string });
  }
  return out;
}

/**
 * A glob (`*` any run, `?` one character; case-insensitive) as a LIKE pattern, with
 * LIKE's own `%`, `_` and `\` escaped. A glob with "/" matches whole paths, else names.
 */
export function globToLike(glob: string): { like: string; onPath: boolean } {
  let like = "";
  for (const char of glob.replace(/^\/+/, "")) {
    if (char === "*") like += "%";
    else if (char === "?") like += "_";
    else if (char === "%" || char === "_" || char === "\\") like += `\\${char}`;
    else like += char;
  }
  return { like, onPath: glob.replace(/^\/+/, "").includes("/") };
}

const entryJson = (row: ArchiveEntryRow): TreeEntry => ({
  name: row.name,
  type: row.type,
  size: row.size,
  mtime: row.mtime,
  mode: row.mode,
});

export function checkArchive(archive: string): void {
  const problem = archiveNameProblem(archive);
  if (problem) throw new AppError("validation_failed", `archive ${problem}`);
}

/** "/" or "" → the root (""); else the member path, parsed. */
export function memberOf(path: string | undefined): string {
  if (path === undefined || /^\/*$/.test(path)) return "";
  const problem = archivePathProblem(path);
  if (problem) throw new AppError("validation_failed", `path ${problem}`);
  return archiveMemberPath(path);
}

/** The archive's listing job in flight, or undefined (a listing whose job ended without completing is dropped). */
async function activeListingJob(deps: HubDeps, listing: ArchiveListingRow) {
  const job = await deps.store.jobs.byId(listing.jobId);
  if (job && !TERMINAL_JOB_STATUSES.includes(job.status)) return job;
  await deps.store.archiveListings.remove(listing.id);
  return undefined;
}

export async function archiveTree(
  deps: HubDeps,
  actor: UserActor,
  repositoryId: number,
  archive: string,
  query: { path?: string; q?: string },
): Promise<TreeAnswer> {
  checkArchive(archive);
  const member = memberOf(query.path);
  if (query.q !== undefined && query.q.trim() === "") {
    throw new AppError("validation_failed", "q must not be empty");
  }
  const repository = await getRepository(deps, repositoryId);
  const listings = deps.store.archiveListings;
  const listing = await listings.forArchive(repository.id, archive);
  if (listing?.status === "ready") {
    await listings.touch(listing.id, deps.clock());
    return answerFrom(deps, listing, member, query.q);
  }
  const running = listing ? await activeListingJob(deps, listing) : undefined;
  if (running) return { kind: "queued", job: running };
  if (actor.role === "viewer") {
    throw new AppError(
      "forbidden",
      `archive "${archive}" is not listed on the hub yet; listing it runs a job on the machine, which needs the operator role`,
    );
  }
  const known = (await deps.store.repositories.archives(repository.id))?.archives ?? [];
  if (known.length > 0 && !known.some((a) => a.name === archive)) {
    throw new AppError("not_found", `no archive "${archive}" in repository "${repository.name}"`);
  }
  const job = await queueJobOfKind(deps, actor, repository.id, "archive.browse", {
    browse: { archive },
  });
  await listings.begin({ repositoryId: repository.id, archive, jobId: job.id }, deps.clock());
  return { kind: "queued", job };
}

async function answerFrom(
  deps: HubDeps,
  listing: ArchiveListingRow,
  member: string,
  q: string | undefined,
): Promise<TreeAnswer> {
  const listings = deps.store.archiveListings;
  const path = `/${member}`;
  if (q !== undefined) {
    const { like, onPath } = globToLike(q);
    const rows = await listings.search(listing.id, like, { onPath, limit: MAX_TREE_ENTRIES + 1 });
    return {
      kind: "tree",
      path,
      entries: rows.slice(0, MAX_TREE_ENTRIES).map((row) => ({
        ...entryJson(row),
        path: `/${row.parent === "" ? row.name : `${row.parent}/${row.name}`}`,
      })),
      truncated: rows.length > MAX_TREE_ENTRIES,
    };
  }
  if (member !== "") {
    const { parent, name } = splitMemberPath(member);
    const entry = await listings.entry(listing.id, parent, name);
    if (!entry) throw new AppError("not_found", `no "${path}" in archive "${listing.archive}"`);
    if (entry.type !== "dir") {
      throw new AppError("validation_failed", `path "${path}" is a ${entry.type}, not a directory`);
    }
  }
  const rows = await listings.children(listing.id, member, MAX_TREE_ENTRIES + 1);
  return {
    kind: "tree",
    path,
    entries: rows.slice(0, MAX_TREE_ENTRIES).map(entryJson),
    truncated: rows.length > MAX_TREE_ENTRIES,
  };
}

/**
 * One chunk of an archive.browse job's listing, from its agent: renews the lease like
 * any upload, then stores the entries (and placeholders for their ancestors) in the job's
 * building listing. 409 when the job is not an active browse of this agent's.
 */
export async function storeListingChunk(
  deps: HubDeps,
  agent: AgentActor,
  jobId: number,
  chunk: ListingChunk,
): Promise<JobRow> {
  const now = deps.clock();
  const job = await renewUploadLease(deps, agent, jobId);
  if (job.jobKind !== "archive.browse" || job.repositoryId === null) {
    throw new AppError("conflict", `job ${jobId} is a ${job.jobKind}, which uploads no listing`);
  }
  const archive = job.payload.browse?.archive;
  if (archive === undefined) throw new AppError("conflict", `job ${jobId} has no archive`);
  const listing = await deps.store.archiveListings.begin(
    { repositoryId: job.repositoryId, archive, jobId },
    now,
  );
  // Keyed, so a path listed twice is one row (PostgreSQL refuses to upsert a row twice in one statement).
  const real = new Map<string, ArchiveEntryRow>();
  const placeholders = new Map<string, ArchiveEntryRow>();
  for (const entry of chunk.entries) {
    const path = archiveMemberPath(entry.path);
    if (archivePathProblem(path)) continue;
    const { parent, name } = splitMemberPath(path);
    real.set(`${parent}\0${name}`, {
      parent,
      name,
      type: entry.type,
      size: entry.size,
      mtime: entry.mtime,
      mode: entry.mode,
    });
    for (const above of ancestorsOf(path)) {
      const key = `${above.parent}\0${above.name}`;
      if (!placeholders.has(key)) {
        placeholders.set(key, { ...above, type: "dir", size: 0, mtime: null, mode: null });
      }
    }
  }
  const stored = await deps.store.archiveListings.addEntries(
    listing.id,
    [...real.values()],
    [...placeholders.values()],
  );
  if (!stored) throw new AppError("conflict", `the listing of job ${jobId} is already published`);
  return job;
}
