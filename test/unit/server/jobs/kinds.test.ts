/**
 * The hub's job kinds (src/server/jobs): every protocol kind has a module; each builds
 * its own payload block and says what the job row keeps of its result. What they record
 * elsewhere (a backup's outcome, a list's archives) is covered through the routes in
 * test/integration/server.
 */
import { describe, expect, test } from "bun:test";
import type { RepositoryRow } from "../../../../src/server/db/records.ts";
import { HUB_JOB_KINDS } from "../../../../src/server/jobs/index.ts";
import { AppError } from "../../../../src/shared/errors.ts";
import { JOB_KINDS, JOB_RESULTS } from "../../../../src/shared/protocol/agent.ts";

const repository: RepositoryRow = {
  id: 7,
  name: "laptop",
  agentMachineId: 3,
  location: "/srv/borg/laptop",
  boxId: null,
  borgVersion: 1,
  encryption: "repokey-blake2",
  passphraseLocation: "hub",
  hasPassphrase: true,
  sourcePaths: ["/home"],
  optionalSourcePaths: [],
  excludePatterns: [],
  compression: "lz4",
  archiveName: "{hostname}-{now}",
  appendOnly: false,
  sshHostKey: null,
  lastBackupAt: null,
  lastResult: null,
  lastJobId: null,
  expectedIntervalSeconds: null,
  overdueFactor: 1.5,
  failuresSinceSuccess: 0,
  overdueSince: null,
  createdAt: 0,
  updatedAt: 0,
};

/** A request for every kind at once: each kind takes only its own part. */
const OPTIONS = {
  prune: { keep_daily: 1 },
  browse: { archive: "a-1" },
  restore: { archive: "a-1", paths: [], destination: "/srv/r", overwrite: false, dry_run: false },
  download: { archive: "a-1", path: "home/u/a.txt", size: 3 },
};

describe("the hub's registry", () => {
  test("has a module for every protocol kind", () => {
    expect(Object.keys(HUB_JOB_KINDS).sort()).toEqual([...JOB_KINDS].sort());
  });

  test("only backups run one at a time per repository", () => {
    expect(JOB_KINDS.filter((kind) => HUB_JOB_KINDS[kind].exclusive)).toEqual(["backup.create"]);
  });

  test("each kind builds only its own block", () => {
    const blocks = Object.fromEntries(
      JOB_KINDS.map((kind) => [kind, Object.keys(HUB_JOB_KINDS[kind].blocks(repository, OPTIONS))]),
    );
    expect(blocks).toEqual({
      "repo.init": ["init"],
      "backup.create": ["backup"],
      "repo.prune": ["prune"],
      "repo.compact": [],
      "repo.check": ["check"],
      "repo.break_lock": [],
      "archive.list": [],
      "repo.info": [],
      "archive.browse": ["browse"],
      "archive.extract": ["restore"],
      "archive.download": ["download"],
    });
  });

  test("a prune request without keep rules is refused before anything is queued", () => {
    const prune = HUB_JOB_KINDS["repo.prune"];
    expect(() => prune.checkRequest?.({ prune: { dry_run: true } })).toThrow(AppError);
    expect(() => prune.checkRequest?.({})).toThrow(/at least one of/);
    expect(() => prune.checkRequest?.({ prune: { keep_within: "2d" } })).not.toThrow();
  });
});

describe("what a job keeps of its result", () => {
  test("a backup: its archive name and stats", () => {
    const stats = { original_size: 3, compressed_size: 2, deduplicated_size: 1, nfiles: 1 };
    const result = JOB_RESULTS["backup.create"].parse({
      return_code: 0,
      archive_name: "host-1",
      stats,
    });
    expect(HUB_JOB_KINDS["backup.create"].stored(result)).toEqual({
      archive_name: "host-1",
      stats,
    });
    // From an agent older than the kind schemas, which could leave both out.
    expect(HUB_JOB_KINDS["backup.create"].stored({ return_code: 0 })).toEqual({});
  });

  test("a list: the count (the list itself goes onto the repository)", () => {
    const archives = [
      { id: "a", name: "one" },
      { id: "b", name: "two" },
    ];
    expect(HUB_JOB_KINDS["archive.list"].stored({ return_code: 0, archives })).toEqual({
      archive_count: 2,
    });
    expect(HUB_JOB_KINDS["archive.list"].completed).toBeFunction();
  });

  test("the other kinds: nothing of their own", () => {
    for (const kind of ["repo.init", "repo.prune", "repo.compact", "repo.check"] as const) {
      expect(HUB_JOB_KINDS[kind].stored({ return_code: 1, warnings: ["w"] })).toEqual({});
    }
  });
});
