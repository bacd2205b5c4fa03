/**
 * Storage-side evidence (issue 15): for a repository on a storage box, does what the box
 * saw agree with the last successful backup the agent reported? The box dates a repo's
 * last write by the mtime of its newest `integrity.N` file, which borg 1 rewrites on every
 * commit (a backup, prune, delete, compact; append-only repositories too) and never on a
 * read (list, check without repair, mount) — unlike the repo's modified_at, which a
 * read's lock directory moves too. The hub keeps the box's repo list from its
 * refresh every minute (boxes.ts) and compares it here, at answer time, with nothing new
 * stored.
 *
 * The one disagreement worth saying: the hub recorded a successful backup, the box has
 * been listed well after it, and the box's newest write is clearly older (or there is
 * none). That is a backup that did not land where the hub thinks it did (a location that
 * points at another repository, a box restored from an old snapshot) — exactly what
 * agent-side reporting alone cannot show. A write newer than the last backup is not a
 * disagreement: prune and compact write (box-side, for append-only repositories), and a
 * backup's own report can be moments behind its commit. When the facts cannot decide
 * (no backup yet, a list read too soon, borg 2, which keeps no integrity files), the
 * answer is "unknown" (agrees: null) with the reason, never a guess.
 */
import type { StorageEvidence } from "../../shared/protocol/api.ts";
import type { Repo } from "../../shared/protocol/box.ts";
import type { BoxRow, RepositoryRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { toIso, toIsoOrNull } from "./time.ts";

/**
 * How long after a write the box's stored list may still not show it: the hub's refresh
 * every minute, plus the box's own repo cache (30 s; a stale entry is served once while
 * it is re-read), with room to spare.
 */
export const LISTING_LAG_MS = 3 * 60_000;
/**
 * How far the box's write may precede the reported success and still be that backup:
 * the agent reports after borg's final commit (and any hooks), and the box's and the
 * hub's clocks may differ by some minutes.
 */
export const WRITE_TOLERANCE_MS = 10 * 60_000;

/** The box repo a repository's location points at (`ssh://user@host:port/<path>`). */
export function boxRepoOf(
  box: Pick<BoxRow, "sshPort">,
  repos: readonly Repo[],
  location: string,
): Repo | undefined {
  const trimmed = location.replace(/\/+$/, "");
  return repos.find((repo) => trimmed.endsWith(`:${box.sshPort}${repo.path}`));
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} minutes`;

/** The evidence for one repository; null when it is not on a box (or the box is gone). */
export function storageEvidence(
  repository: RepositoryRow,
  box: BoxRow | undefined,
): StorageEvidence | null {
  if (repository.boxId === null || box === undefined) return null;
  const listedAt = box.reposListedAt;
  const repo = listedAt === null ? undefined : boxRepoOf(box, box.repos, repository.location);
  const write = repo?.last_write_at ? Date.parse(repo.last_write_at) : null;
  const answer = (agrees: boolean | null, note: string): StorageEvidence => ({
    box_id: box.id,
    box_last_write_at: write === null || Number.isNaN(write) ? null : toIso(write),
    box_listed_at: toIsoOrNull(listedAt),
    agrees,
    note,
  });
  if (listedAt === null) return answer(null, "the hub has not read the box's repo list yet");
  if (repository.borgVersion === 2) {
    return answer(null, "borg 2 repositories have no integrity files the box dates writes by");
  }
  if (repo === undefined) {
    if (listedAt < repository.createdAt + LISTING_LAG_MS) {
      return answer(null, "the box was last listed before this repository was created");
    }
    return answer(
      false,
      "the box does not list this repository's directory: removed on the box, or the location points elsewhere",
    );
  }
  const success = repository.lastBackupAt;
  if (success === null)
    return answer(null, "no successful backup reported yet: nothing to compare");
  if (write !== null && write >= success - WRITE_TOLERANCE_MS) {
    return answer(
      true,
      write > success + WRITE_TOLERANCE_MS
        ? "the box saw a write after the last reported backup (a prune, compact, or a backup not yet reported)"
        : "the box saw a write when the last backup was reported",
    );
  }
  if (listedAt < success + LISTING_LAG_MS) {
    return answer(null, "the box's list was read too soon after the last backup to show its write");
  }
  return answer(
    false,
    `the hub recorded a successful backup at ${toIso(success)}, but the box saw ${
      write === null
        ? "no write to this repository at all"
        : `no write to this repository since ${toIso(write)}, ${minutes(success - write)} before it`
    }: the backup may have gone to another repository`,
  );
}

/** The evidence of several repositories (one box read, and only when one is on a box). */
export async function storageEvidenceOf(
  deps: Pick<HubDeps, "store">,
  repositories: readonly RepositoryRow[],
): Promise<Map<number, StorageEvidence | null>> {
  const onBoxes = repositories.filter((r) => r.boxId !== null);
  const boxes = onBoxes.length === 0 ? [] : await deps.store.boxes.list();
  const byId = new Map(boxes.map((b) => [b.id, b]));
  return new Map(
    repositories.map((r) => [
      r.id,
      storageEvidence(r, r.boxId === null ? undefined : byId.get(r.boxId)),
    ]),
  );
}
