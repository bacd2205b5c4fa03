/**
 * Hub events as messages: the summary a person reads first, the link under public_url
 * (none without it), the facts each event carries, and the cooldown's subject (the
 * same repository, machine, box or plan; a job event's is its repository).
 */
import { describe, expect, test } from "bun:test";
import type { Store } from "../../../../src/server/db/store.ts";
import { createHubDeps } from "../../../../src/server/deps.ts";
import {
  type HubEvent,
  messageOf,
  subjectKey,
  summarize,
} from "../../../../src/server/services/hub-events.ts";
import { SecretBox } from "../../../../src/server/services/secret-box.ts";
import { createLogger } from "../../../../src/shared/log.ts";

const deps = (publicUrl?: string) =>
  createHubDeps({
    store: {} as Store,
    logger: createLogger({ level: "error", write: () => {} }),
    secretBox: SecretBox.fromKey(Buffer.alloc(32, 1)),
    settings: { publicUrl },
  });

const T = Date.parse("2026-12-01T02:00:00Z");
const failed: HubEvent = {
  type: "job.failed",
  job: { id: 9, kind: "backup.create", status: "failed", errorMessage: "exit 2", planId: 4 },
  repository: { id: 3, name: "home" },
  machine: { id: 2, name: "laptop" },
};

describe("hub events", () => {
  test("summaries name the thing and what happened", () => {
    expect(summarize(failed)).toBe('Backup of "home" on "laptop" failed: exit 2');
    expect(
      summarize({ ...failed, type: "job.warning", job: { ...failed.job, kind: "repo.check" } }),
    ).toBe('Job repo.check of "home" on "laptop" completed with warnings');
    expect(
      summarize({
        type: "repository.overdue",
        repository: { id: 3, name: "home" },
        overdueSince: T,
        lastSuccessAt: null,
      }),
    ).toBe('Repository "home" is overdue: no successful backup yet');
    expect(
      summarize({
        type: "box.low_space",
        box: { id: 1, name: "nas" },
        freeBytes: 2 * 1024 ** 3,
        totalBytes: 100 * 1024 ** 3,
      }),
    ).toBe('Storage box "nas" is low on space: 2.0 GiB free of 100.0 GiB');
    expect(
      summarize({
        type: "plan.missed",
        plan: { id: 4, name: "nightly" },
        repository: { id: 3, name: "home" },
        missedCount: 1,
        dueAt: T,
      }),
    ).toBe('Plan "nightly" of "home" missed 1 due time (the last at 2026-12-01T02:00:00.000Z)');
  });

  test("links go under public_url, with or without its own path; none without it", () => {
    expect(messageOf(deps("https://hub.example.com"), failed, T).url).toBe(
      "https://hub.example.com/jobs/9",
    );
    expect(messageOf(deps("https://example.com/borg"), failed, T).url).toBe(
      "https://example.com/borg/jobs/9",
    );
    expect(messageOf(deps(), failed, T).url).toBeNull();
  });

  test("a message carries the facts, never more", () => {
    expect(messageOf(deps(), failed, T)).toEqual({
      event: "job.failed",
      occurred_at: "2026-12-01T02:00:00.000Z",
      summary: 'Backup of "home" on "laptop" failed: exit 2',
      url: null,
      job: { id: 9, kind: "backup.create", status: "failed", error_message: "exit 2" },
      repository: { id: 3, name: "home" },
      machine: { id: 2, name: "laptop" },
    });
  });

  test("the cooldown's subject", () => {
    expect(subjectKey(failed)).toBe("repository:3");
    expect(subjectKey({ ...failed, repository: undefined })).toBe("job:9");
    expect(
      subjectKey({ type: "machine.offline", machine: { id: 2, name: "x" }, lastSeenAt: null }),
    ).toBe("machine:2");
    expect(subjectKey({ type: "box.offline", box: { id: 5, name: "x" }, lastSeenAt: null })).toBe(
      "box:5",
    );
  });
});
