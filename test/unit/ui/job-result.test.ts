import { describe, expect, test } from "bun:test";
import type { Job } from "../../../src/shared/protocol/api.ts";
import { backupStatsFacts, failureMessage } from "../../../src/ui/job-result.ts";

const job = (over: Partial<Job> = {}): Job => ({
  id: 7,
  type: "backup.create",
  status: "completed",
  repository_id: 1,
  agent_machine_id: 1,
  progress: {
    progress_percent: null,
    current_file: null,
    original_size: null,
    compressed_size: null,
    deduplicated_size: null,
    nfiles: null,
    backup_speed: null,
    estimated_time_remaining: null,
    phase: null,
    updated_at: null,
  },
  result: null,
  error_message: null,
  return_code: 0,
  created_at: "2025-01-01T00:00:00Z",
  claimed_at: "2025-01-01T00:00:01Z",
  started_at: "2025-01-01T00:00:02Z",
  completed_at: "2025-01-01T00:01:02Z",
  triggered_by: "user:1:admin",
  ...over,
});

const stats = {
  original_size: 5 * 1024 * 1024,
  compressed_size: 2 * 1024 * 1024,
  deduplicated_size: 1536,
  nfiles: 12345,
};

describe("a finished job's outcome", () => {
  test("a completed backup shows its sizes and file count", () => {
    expect(backupStatsFacts(job({ result: { archive_name: "a", stats } }))).toEqual([
      { label: "Original size", value: "5.0 MiB" },
      { label: "Compressed size", value: "2.0 MiB" },
      { label: "Deduplicated size", value: "1.5 KiB" },
      { label: "Files", value: "12,345" },
    ]);
  });

  test("no stats without a result, or for jobs that are not backups", () => {
    expect(backupStatsFacts(job())).toEqual([]);
    expect(backupStatsFacts(job({ result: { archive_name: "a" } }))).toEqual([]);
    expect(backupStatsFacts(job({ type: "repo.check", result: { stats } }))).toEqual([]);
  });

  test("a failed job's message is the headline; other jobs have none", () => {
    expect(failureMessage(job({ status: "failed", error_message: " repository locked " }))).toBe(
      "repository locked",
    );
    expect(failureMessage(job({ status: "failed" }))).toMatch(/without a message/);
    expect(failureMessage(job({ status: "completed", error_message: "odd" }))).toBeNull();
    expect(failureMessage(job({ status: "canceled" }))).toBeNull();
  });
});
