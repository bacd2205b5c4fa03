/**
 * The verdicts of storage-evidence.ts one by one, on rows as the store returns them (the
 * real box and borg path is test/integration/server/freshness.test.ts). Only the fields
 * the comparison reads are set; the rest of a row does not take part.
 */
import { describe, expect, test } from "bun:test";
import type { BoxRow, RepositoryRow } from "../../../../src/server/db/records.ts";
import {
  boxRepoOf,
  LISTING_LAG_MS,
  storageEvidence,
  WRITE_TOLERANCE_MS,
} from "../../../../src/server/services/storage-evidence.ts";
import type { Repo } from "../../../../src/shared/protocol/box.ts";

const T = Date.parse("2026-11-28T02:00:00Z");
const MINUTE = 60_000;

const boxRepo = (lastWriteAt: number | null): Repo => ({
  name: "laptop",
  path: "/srv/repos/laptop",
  size_bytes: 1,
  initialized: true,
  modified_at: new Date(T).toISOString(),
  last_write_at: lastWriteAt === null ? null : new Date(lastWriteAt).toISOString(),
  registered: true,
  append_only: false,
});

const box = (repos: Repo[], listedAt: number | null): BoxRow =>
  ({ id: 7, sshPort: 2222, repos, reposListedAt: listedAt }) as BoxRow;

const repository = (lastBackupAt: number | null, extra: Partial<RepositoryRow> = {}) =>
  ({
    id: 1,
    boxId: 7,
    borgVersion: 1,
    location: "ssh://borg@nas:2222/srv/repos/laptop/",
    createdAt: T - 30 * 24 * 60 * MINUTE,
    lastBackupAt,
    ...extra,
  }) as RepositoryRow;

const late = T + LISTING_LAG_MS + 1;

describe("storageEvidence", () => {
  test("not on a box: null", () => {
    expect(storageEvidence(repository(T, { boxId: null }), undefined)).toBeNull();
  });

  test("a write at the reported success agrees; a later one (prune, compact) too", () => {
    expect(storageEvidence(repository(T), box([boxRepo(T - 5000)], late))).toMatchObject({
      box_id: 7,
      box_last_write_at: new Date(T - 5000).toISOString(),
      agrees: true,
    });
    const later = storageEvidence(repository(T), box([boxRepo(T + 3 * 60 * MINUTE)], late));
    expect(later?.agrees).toBe(true);
    expect(later?.note).toContain("after the last reported backup");
  });

  test("no write since well before the success disagrees, once the list is late enough", () => {
    const old = boxRepo(T - WRITE_TOLERANCE_MS - MINUTE);
    expect(storageEvidence(repository(T), box([old], T + MINUTE))?.agrees).toBeNull();
    const verdict = storageEvidence(repository(T), box([old], late));
    expect(verdict?.agrees).toBe(false);
    expect(verdict?.note).toContain("11 minutes before it");
    expect(storageEvidence(repository(T), box([boxRepo(null)], late))?.note).toContain(
      "no write to this repository at all",
    );
  });

  test("within the tolerance (clock skew, the report after borg's commit) it agrees", () => {
    const skewed = boxRepo(T - WRITE_TOLERANCE_MS + MINUTE);
    expect(storageEvidence(repository(T), box([skewed], late))?.agrees).toBe(true);
  });

  test("cannot tell: never listed, no backup yet, borg 2 — null with the reason", () => {
    expect(storageEvidence(repository(T), box([], null))).toMatchObject({
      agrees: null,
      box_listed_at: null,
    });
    expect(storageEvidence(repository(null), box([boxRepo(T)], late))?.note).toContain(
      "no successful backup",
    );
    expect(
      storageEvidence(repository(T, { borgVersion: 2 }), box([boxRepo(null)], late))?.agrees,
    ).toBeNull();
  });

  test("the box no longer lists the directory: disagrees, unless listed before it was made", () => {
    expect(storageEvidence(repository(T), box([], late))?.agrees).toBe(false);
    const fresh = repository(null, { createdAt: late - MINUTE });
    expect(storageEvidence(fresh, box([], late))?.agrees).toBeNull();
  });

  test("the location names the repo by the box's SSH port and path, a trailing / or not", () => {
    const repos = [boxRepo(T)];
    expect(boxRepoOf({ sshPort: 2222 }, repos, "ssh://borg@nas:2222/srv/repos/laptop")).toBe(
      repos[0],
    );
    expect(
      boxRepoOf({ sshPort: 22 }, repos, "ssh://borg@nas:2222/srv/repos/laptop"),
    ).toBeUndefined();
    expect(
      boxRepoOf({ sshPort: 2222 }, repos, "ssh://borg@nas:2222/srv/repos/laptop-2"),
    ).toBeUndefined();
  });
});
