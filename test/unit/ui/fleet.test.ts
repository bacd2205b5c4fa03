import { describe, expect, test } from "bun:test";
import type { Job, Machine, Repository } from "../../../src/shared/protocol/api.ts";
import {
  activeJobs,
  countMachines,
  failureSummary,
  lastFinishedJobs,
  repositoriesByAttention,
  repositoryHealth,
} from "../../../src/ui/fleet.ts";

const NOW = Date.parse("2025-01-10T12:00:00Z");

const machine = (status: Machine["status"]) => ({ status }) as Machine;
const repo = (name: string, last_backup_at: string | null, last_result: string | null) =>
  ({ name, last_backup_at, last_result }) as Repository;

describe("fleet", () => {
  test("machine counts", () => {
    const counts = countMachines(
      ["online", "online", "offline", "pending", "revoked"].map((s) =>
        machine(s as Machine["status"]),
      ),
    );
    expect(counts).toEqual({ online: 2, offline: 1, other: 2 });
  });

  test("health: failing, never, overdue after a day, ok", () => {
    expect(repositoryHealth(repo("a", "2025-01-10T11:00:00Z", "failed"), NOW)).toBe("failing");
    expect(repositoryHealth(repo("a", null, null), NOW)).toBe("never");
    expect(repositoryHealth(repo("a", "2025-01-09T11:00:00Z", "completed"), NOW)).toBe("overdue");
    expect(repositoryHealth(repo("a", "2025-01-10T01:00:00Z", "completed"), NOW)).toBe("ok");
  });

  test("attention order: failing, never, overdue (oldest first), ok", () => {
    const ordered = repositoriesByAttention(
      [
        repo("fresh", "2025-01-10T11:00:00Z", "completed"),
        repo("old", "2025-01-01T00:00:00Z", "completed"),
        repo("older", "2024-12-01T00:00:00Z", "completed"),
        repo("new", null, null),
        repo("broken", "2025-01-10T11:30:00Z", "failed"),
      ],
      NOW,
    );
    expect(ordered.map((r) => r.name)).toEqual(["broken", "new", "older", "old", "fresh"]);
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
    const fresh = { ...repo("new", null, null), id: 5 } as Repository;
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
    expect(repositoryHealth(fresh, NOW, last.get(5))).toBe("failing");
    expect(failureSummary(last.get(5) as Job)).toBe("Initialize failed: repository already exists");
    const ordered = repositoriesByAttention([repo("never", null, null), fresh], NOW, last);
    expect(ordered.map((r) => r.name)).toEqual(["new", "never"]);
    // A later success clears it.
    const fixed = lastFinishedJobs([...jobs, { ...jobs[1], id: 11 } as Job]);
    expect(repositoryHealth(fresh, NOW, fixed.get(5))).toBe("never");
  });
});
