import { describe, expect, test } from "bun:test";
import type {
  Job,
  Machine,
  Repository,
  RepositoryFreshness,
} from "../../../src/shared/protocol/api.ts";
import {
  activeJobs,
  attentionReason,
  countFreshness,
  countMachines,
  failureSummary,
  lastFinishedJobs,
  repositoriesByAttention,
  repositoryHealth,
} from "../../../src/ui/fleet.ts";

const NOW = Date.parse("2025-01-10T12:00:00Z");

const machine = (status: Machine["status"]) => ({ status }) as Machine;
const repo = (
  name: string,
  status: RepositoryFreshness["status"],
  last_success_at: string | null,
  extra: Partial<RepositoryFreshness> = {},
) =>
  ({
    name,
    freshness: {
      status,
      last_success_at,
      last_job_status: null,
      failures_since_success: status === "failing" ? 1 : 0,
      expected_interval_seconds: 86_400,
      expected_interval_source: "plans",
      overdue_factor: 1.5,
      overdue_at: null,
      overdue_since: null,
      ...extra,
    },
  }) as Repository;

describe("fleet", () => {
  test("machine counts", () => {
    const counts = countMachines(
      ["online", "online", "offline", "pending", "revoked"].map((s) =>
        machine(s as Machine["status"]),
      ),
    );
    expect(counts).toEqual({ online: 2, offline: 1, other: 2 });
  });

  test("health is the hub's freshness answer, whatever the age of the last backup", () => {
    expect(repositoryHealth(repo("a", "failing", "2025-01-10T11:00:00Z"))).toBe("failing");
    expect(repositoryHealth(repo("a", "never", null))).toBe("never");
    // A weekly plan: a 3-day-old backup is not overdue (the old client guessed 24 h).
    expect(repositoryHealth(repo("a", "ok", "2025-01-07T11:00:00Z"))).toBe("ok");
    expect(repositoryHealth(repo("a", "overdue", "2025-01-10T01:00:00Z"))).toBe("overdue");
  });

  test("attention order: failing, overdue (oldest success first), never, ok; counts", () => {
    const repos = [
      repo("fresh", "ok", "2025-01-10T11:00:00Z"),
      repo("old", "overdue", "2025-01-01T00:00:00Z"),
      repo("older", "overdue", "2024-12-01T00:00:00Z"),
      repo("new", "never", null),
      repo("broken", "failing", "2025-01-10T11:30:00Z"),
    ];
    expect(repositoriesByAttention(repos).map((r) => r.name)).toEqual([
      "broken",
      "older",
      "old",
      "new",
      "fresh",
    ]);
    expect(countFreshness(repos)).toEqual({ ok: 1, overdue: 2, failing: 1, never: 1 });
  });

  test("why a repository needs attention", () => {
    expect(attentionReason(repo("a", "ok", "2025-01-10T11:00:00Z"), NOW)).toBeUndefined();
    expect(attentionReason(repo("a", "overdue", "2025-01-07T12:00:00Z"), NOW)).toBe(
      "no successful backup for 3d, expected every 1d",
    );
    expect(attentionReason(repo("a", "failing", null, { failures_since_success: 3 }), NOW)).toBe(
      "3 backups failed since the last success",
    );
    expect(attentionReason(repo("a", "never", null), NOW)).toBe(
      "not backed up yet (expected every 1d)",
    );
    expect(
      attentionReason(repo("a", "never", null, { expected_interval_seconds: null }), NOW),
    ).toBe("never backed up, and no backup plan: add a plan or back up now");
  });

  test("active jobs are the unfinished ones", () => {
    const jobs = ["queued", "running", "completed", "failed", "cancel_requested"].map(
      (status, id) => ({ id, status }),
    ) as unknown as Parameters<typeof activeJobs>[0];
    expect(activeJobs(jobs).map((j) => j.status)).toEqual([
      "queued",
      "running",
      "cancel_requested",
    ]);
  });

  test("a failed init (any failed job) makes a never-backed-up repository failing, with its reason", () => {
    const fresh = { ...repo("new", "never", null), id: 5 } as Repository;
    const jobs = [
      {
        id: 9,
        repository_id: 5,
        type: "repo.init",
        status: "failed",
        error_message: "repository already exists",
      },
      { id: 8, repository_id: 5, type: "repo.init", status: "completed", error_message: null },
      { id: 10, repository_id: 5, type: "backup.create", status: "queued", error_message: null },
    ] as Job[];
    const last = lastFinishedJobs(jobs);
    expect(last.get(5)?.id).toBe(9);
    expect(repositoryHealth(fresh, last.get(5))).toBe("failing");
    expect(failureSummary(last.get(5) as Job)).toBe("Initialize failed: repository already exists");
    expect(attentionReason(fresh, NOW, last.get(5))).toBe(
      "Initialize failed: repository already exists",
    );
    const ordered = repositoriesByAttention([repo("never", "never", null), fresh], last);
    expect(ordered.map((r) => r.name)).toEqual(["new", "never"]);
    // A later success clears it.
    const fixed = lastFinishedJobs([...jobs, { ...jobs[1], id: 11 } as Job]);
    expect(repositoryHealth(fresh, fixed.get(5))).toBe("never");
  });
});
