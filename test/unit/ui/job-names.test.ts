import { describe, expect, test } from "bun:test";
import type { Job } from "../../../src/shared/protocol/api.ts";
import { jobSummary, triggeredByLabel } from "../../../src/ui/job-names.ts";

const names = {
  repositories: [{ id: 3, name: "laptop-home" }],
  machines: [{ id: 7, name: "vm" }],
};
const job = (over: Partial<Job>) =>
  ({
    type: "backup.create",
    repository_id: 3,
    agent_machine_id: 7,
    triggered_by: "user:1:admin",
    ...over,
  }) as Job;

describe("job names", () => {
  test("who started a job, in words", () => {
    expect(triggeredByLabel("user:1:admin")).toBe("admin");
    expect(triggeredByLabel("user:12:anna:b")).toBe("anna:b");
    expect(triggeredByLabel("scheduler")).toBe("the schedule");
    expect(triggeredByLabel("system")).toBe("the hub");
    expect(triggeredByLabel("api_token:4")).toBe("an API token (#4)");
    expect(triggeredByLabel("plan:3")).toBe("plan #3");
  });

  test("a job names its repository and machine", () => {
    expect(jobSummary(job({}), names)).toBe("Backup of laptop-home (on vm), started by admin");
    expect(jobSummary(job({ type: "repo.init", triggered_by: "scheduler" }), names)).toBe(
      "Initialization of laptop-home (on vm), started by the schedule",
    );
    expect(jobSummary(job({ repository_id: null, triggered_by: "system" }), names)).toBe(
      "Backup on vm, started by the hub",
    );
  });

  test("names not loaded (yet, or deleted): ids in words, not bare numbers", () => {
    expect(jobSummary(job({}), undefined)).toBe(
      "Backup of repository #3 (on machine #7), started by admin",
    );
  });
});
