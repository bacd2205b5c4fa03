import { describe, expect, test } from "bun:test";
import { auditActions, auditDetails, auditSummary } from "../../../src/ui/audit-view.ts";

describe("auditDetails", () => {
  test("compact JSON for details; a dash for none or an empty object", () => {
    expect(auditDetails({ fields: ["name", "source_paths"] })).toBe(
      '{"fields":["name","source_paths"]}',
    );
    expect(auditDetails(null)).toBe("–");
    expect(auditDetails({})).toBe("–");
  });
});

describe("auditActions", () => {
  test("each action once, sorted", () => {
    expect(
      auditActions([
        { action: "auth.login" },
        { action: "agent.register" },
        { action: "auth.login" },
      ]),
    ).toEqual(["agent.register", "auth.login"]);
  });
});

describe("auditSummary", () => {
  const names = { machines: [{ id: 3, name: "nas" }], repositories: [{ id: 4, name: "nas-data" }] };
  const ev = (
    action: string,
    target: string | null,
    details: Record<string, unknown> | null,
    actor = "user:1:admin",
  ) => ({
    actor,
    action,
    target,
    details,
  });

  test("who did what to what, in words", () => {
    expect(
      auditSummary(
        ev("enrollment.create", "enrollment_token:2", { name: "laptop", expires_in_minutes: 60 }),
      ),
    ).toBe("admin created enrollment token laptop");
    expect(auditSummary(ev("auth.login", null, null))).toBe("admin signed in");
    expect(
      auditSummary(
        ev("repository.update", "repository:4", { fields: ["compression", "source_paths"] }),
        names,
      ),
    ).toBe("admin changed repository nas-data (compression, source paths)");
    expect(
      auditSummary(
        ev("job.queue", "job:9", { job_kind: "backup.create", repository_id: 4 }),
        names,
      ),
    ).toBe("admin queued backup of nas-data (job #9)");
    expect(auditSummary(ev("auth.login_failed", null, { username: "bob" }, "anonymous"))).toBe(
      "someone failed to sign in as bob",
    );
    expect(
      auditSummary(ev("agent.register", "machine:3", { name: "nas" }, "agent:3:abc"), names),
    ).toBe("machine nas registered as nas");
  });

  test("unknown actions and targets still read as words, never raw JSON", () => {
    expect(auditSummary(ev("box.resize", "box:7", null, "system"))).toBe("the hub box resize #7");
  });
});
