import { describe, expect, test } from "bun:test";
import type { RepositoryRow } from "../../../../src/server/db/records.ts";
import {
  buildJobPayload,
  completedStatus,
  REPOSITORY_ACTIONS,
  redactSecrets,
} from "../../../../src/server/services/job-payload.ts";
import { AppError } from "../../../../src/shared/errors.ts";
import { JOB_KINDS, JobPayload } from "../../../../src/shared/protocol/agent.ts";

const repository: RepositoryRow = {
  id: 7,
  name: "laptop",
  agentMachineId: 3,
  location: "ssh://backup@example.net:22/./laptop",
  boxId: null,
  borgVersion: 1,
  encryption: "repokey-blake2",
  passphraseLocation: "hub",
  hasPassphrase: true,
  sourcePaths: ["/home", "/etc"],
  optionalSourcePaths: [],
  excludePatterns: ["*.tmp"],
  compression: "zstd,3",
  archiveName: "{hostname}-{now}",
  appendOnly: true,
  sshHostKey: "example.net ssh-ed25519 AAAA",
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

describe("buildJobPayload", () => {
  test("a backup carries the repository and the backup block, and no secret", () => {
    const payload = buildJobPayload(12, "backup.create", repository);
    expect(JobPayload.parse(payload)).toEqual({
      schema_version: 1,
      job_id: 12,
      job_kind: "backup.create",
      repository: {
        id: 7,
        name: "laptop",
        location: "ssh://backup@example.net:22/./laptop",
        borg_version: 1,
        encryption: "repokey-blake2",
        append_only: true,
        ssh_host_key: "example.net ssh-ed25519 AAAA",
        box_id: null,
      },
      backup: {
        archive_name: "{hostname}-{now}",
        source_paths: ["/home", "/etc"],
        exclude_patterns: ["*.tmp"],
        compression: "zstd,3",
      },
      secrets: { passphrase_location: "hub" },
    });
  });

  test("the payload does not share arrays with the repository row", () => {
    const payload = buildJobPayload(1, "backup.create", repository);
    payload.backup?.source_paths.push("/tmp");
    expect(repository.sourcePaths).toEqual(["/home", "/etc"]);
  });

  test("each kind gets its own block and only that", () => {
    const prune = buildJobPayload(1, "repo.prune", repository, {
      prune: { keep_daily: 7, keep_weekly: 4 },
    });
    expect(prune.prune).toEqual({ keep_daily: 7, keep_weekly: 4, dry_run: false });
    expect(prune.backup).toBeUndefined();
    const check = buildJobPayload(1, "repo.check", repository, {
      check: { repository_only: true, verify_data: false },
    });
    expect(check.check).toEqual({ repository_only: true, verify_data: false });
    expect(buildJobPayload(1, "repo.check", repository).check).toEqual({
      repository_only: false,
      verify_data: false,
    });
    expect(buildJobPayload(1, "repo.init", repository).init).toEqual({
      encryption: "repokey-blake2",
    });
    for (const kind of ["repo.compact", "repo.break_lock", "archive.list"] as const) {
      const payload = buildJobPayload(1, kind, repository);
      expect(Object.keys(payload).sort()).toEqual(
        ["job_id", "job_kind", "repository", "schema_version", "secrets"].sort(),
      );
    }
  });

  test("prune without a keep rule is refused (it would delete every archive)", () => {
    expect(() =>
      buildJobPayload(1, "repo.prune", repository, { prune: { dry_run: true } }),
    ).toThrow(AppError);
    expect(() => buildJobPayload(1, "repo.prune", repository)).toThrow(/at least one of/);
    expect(
      buildJobPayload(1, "repo.prune", repository, { prune: { keep_within: "2d" } }).prune,
    ).toEqual({ keep_within: "2d", dry_run: false });
  });

  test("an agent-held passphrase is named as such", () => {
    const payload = buildJobPayload(1, "backup.create", {
      ...repository,
      passphraseLocation: "agent",
      hasPassphrase: false,
    });
    expect(payload.secrets).toEqual({ passphrase_location: "agent" });
  });

  test("every repository action maps to a protocol job kind", () => {
    for (const kind of Object.values(REPOSITORY_ACTIONS)) expect(JOB_KINDS).toContain(kind);
  });

  test("every kind's payload is one its agents accept (the protocol's own union)", () => {
    for (const kind of JOB_KINDS) {
      const options = {
        prune: { keep_daily: 1 },
        browse: { archive: "a-1" },
        restore: {
          archive: "a-1",
          paths: ["home/u"],
          destination: "/srv/r",
          overwrite: false,
          dry_run: true,
        },
        download: { archive: "a-1", path: "home/u/a.txt", size: 3 },
      };
      const payload = buildJobPayload(3, kind, repository, options);
      expect(JobPayload.parse(payload)).toEqual(payload);
      expect(payload.job_kind).toBe(kind);
    }
  });
});

describe("completedStatus", () => {
  // The agent classified the exit (src/borg/exit.ts) and sends /complete only for a run
  // that did the work; the hub keeps no table of its own: 0 is clean, anything else in a
  // complete report is a warning. (Before, the hub re-mapped codes and could turn an
  // agent's complete into a failure.)
  test.each([
    [0, "completed"],
    [1, "completed_with_warnings"],
    [100, "completed_with_warnings"],
    [127, "completed_with_warnings"],
    [2, "completed_with_warnings"],
  ] as const)("a complete report with return code %d → %s", (code, status) => {
    expect(completedStatus({ return_code: code })).toBe(status);
  });

  test("exit 0 with the agent's own warnings (an optional source left out) → completed_with_warnings", () => {
    expect(completedStatus({ return_code: 0, warnings: ["optional source path …"] })).toBe(
      "completed_with_warnings",
    );
    expect(completedStatus({ return_code: 0, warnings: [] })).toBe("completed");
  });
});

describe("redactSecrets", () => {
  test("replaces every occurrence, longest secret first, short ones too", () => {
    expect(redactSecrets("pw=hunter2 again hunter2", ["hunter2"])).toBe(
      "pw=[redacted] again [redacted]",
    );
    expect(redactSecrets("abcdef", ["abc", "abcdef"])).toBe("[redacted]");
    expect(redactSecrets("a-b", ["b"])).toBe("a-[redacted]");
    expect(redactSecrets("nothing here", [])).toBe("nothing here");
    expect(redactSecrets("keep", [""])).toBe("keep");
  });
});
