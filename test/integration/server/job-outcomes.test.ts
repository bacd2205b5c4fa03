/**
 * How the hub records the end of a job (issue 11, items 2–4), through the real agent
 * runtime routes on real SQLite:
 * - a result its kind can't do without (an archive list without the list) fails the
 *   job and leaves the repository's stored list alone, instead of storing [];
 * - the agent's report decides the status: the hub keeps no exit-code table, so it
 *   never turns a complete report into a failure;
 * - every terminal transition sets ended_reason, shown in the jobs API, and the lease
 *   refusal reads it, not the text of error_message.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sweepExpiredLeases } from "../../../src/server/services/job-sweeper.ts";
import { UploadResponse } from "../../../src/shared/protocol/agent.ts";
import { Archives, Job, JobAccepted, type Repository } from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { createTestHub } from "../../helpers/hub.ts";
import {
  addAgentMachine,
  createRepository,
  type TestAgent,
  userWithRole,
} from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
let operator: string;
let agent: TestAgent;
let repo: Repository;

beforeAll(async () => {
  operator = await userWithRole(hub, "operator");
  agent = await addAgentMachine(hub);
  repo = await createRepository(hub, await hub.login(), agent.machineId);
});
afterAll(() => hub.close());

const call = (method: string, path: string, body?: unknown) =>
  hub.request(method, `/api/agents/jobs${path}`, { agentToken: agent.token, body });

/** Queues `action` on the repository; claimed and started unless told otherwise. */
async function job(
  action: string,
  body?: unknown,
  steps: "queued" | "claimed" | "running" = "running",
) {
  const queued = await hub.request("POST", `/api/repositories/${repo.id}/${action}`, {
    token: operator,
    body,
  });
  expect(queued.status).toBe(202);
  const id = JobAccepted.parse(queued.body).job_id;
  if (steps !== "queued") expect((await call("POST", `/${id}/claim`)).status).toBe(200);
  if (steps === "running") expect((await call("POST", `/${id}/start`, {})).status).toBe(200);
  return id;
}

async function jobOf(id: number): Promise<Job> {
  const response = await hub.request("GET", `/api/jobs/${id}`, { token: operator });
  expect(response.status).toBe(200);
  return Job.parse(response.body);
}

async function storedArchives() {
  const response = await hub.request("GET", `/api/repositories/${repo.id}/archives`, {
    token: operator,
  });
  return Archives.parse(response.body);
}

const codeOf = (body: unknown) => ErrorBody.parse(body).code;

describe("results are never silently empty", () => {
  test("an archive list without its list fails, and the stored list stays", async () => {
    const archives = [{ id: "aa11", name: "host-1", time: "2026-01-01T00:00:00.000000" }];
    const good = await job("list");
    await call("POST", `/${good}/complete`, { result: { return_code: 0, archives } });
    const before = await storedArchives();
    expect(before.archives).toEqual(archives);

    // What an older agent sent when borg's --json output did not parse.
    const empty = await job("list");
    const answer = await call("POST", `/${empty}/complete`, { result: { return_code: 0 } });
    expect(answer.status).toBe(200);
    expect(UploadResponse.parse(answer.body).status).toBe("failed");
    const failed = await jobOf(empty);
    expect(failed).toMatchObject({
      status: "failed",
      ended_reason: "borg_failed",
      return_code: 0,
      result: null,
    });
    expect(failed.error_message).toStartWith(
      "borg finished but its output could not be read: the agent's archive.list result is incomplete (archives: ",
    );
    expect(await storedArchives()).toEqual(before);
  });
});

describe("the agent's report decides the status", () => {
  test("a complete report is never turned into a failure by the hub", async () => {
    // The agent classified the exit (src/borg/exit.ts) and reported the work done; a
    // code the hub's old table called an error (2–99) stays the agent's call.
    for (const [code, status] of [
      [0, "completed"],
      [1, "completed_with_warnings"],
      [105, "completed_with_warnings"],
      [3, "completed_with_warnings"],
    ] as const) {
      const id = await job("check");
      const answer = await call("POST", `/${id}/complete`, { result: { return_code: code } });
      expect(UploadResponse.parse(answer.body).status).toBe(status);
      expect(await jobOf(id)).toMatchObject({
        status,
        return_code: code,
        error_message: null,
        ended_reason: "completed",
      });
    }
  });
});

describe("ended_reason", () => {
  test("every terminal transition says why the job ended", async () => {
    expect((await jobOf(await job("check", {}, "queued"))).ended_reason).toBeNull();

    const completed = await job("compact");
    await call("POST", `/${completed}/complete`, { result: { return_code: 0 } });
    const failed = await job("compact");
    await call("POST", `/${failed}/fail`, {
      error_message: "Repository is locked",
      return_code: 2,
    });
    const reported = await job("compact");
    await hub.request("POST", `/api/jobs/${reported}/cancel`, { token: operator });
    await call("POST", `/${reported}/canceled`, { return_code: 2 });
    const queued = await job("compact", {}, "queued");
    await hub.request("POST", `/api/jobs/${queued}/cancel`, { token: operator });

    expect((await jobOf(completed)).ended_reason).toBe("completed");
    expect(await jobOf(failed)).toMatchObject({ status: "failed", ended_reason: "borg_failed" });
    expect(await jobOf(reported)).toMatchObject({ status: "canceled", ended_reason: "canceled" });
    expect(await jobOf(queued)).toMatchObject({ status: "canceled", ended_reason: "canceled" });
  });

  test("a lost lease is told by ended_reason, not by the error's wording", async () => {
    // An agent's own failure that happens to read like the sweep's message.
    const own = await job("compact");
    await call("POST", `/${own}/fail`, { error_message: "agent lost: the NAS rebooted" });
    expect((await jobOf(own)).ended_reason).toBe("borg_failed");
    const late = await call("POST", `/${own}/progress`, { nfiles: 1 });
    expect(late.status).toBe(409);
    expect(codeOf(late.body)).toBe("conflict");

    // The sweep: a running job failed, a cancel-requested one that never started canceled.
    const running = await job("compact");
    const unstarted = await job("compact", {}, "claimed");
    await hub.request("POST", `/api/jobs/${unstarted}/cancel`, { token: operator });
    hub.tick(hub.deps.settings.leaseMs + 1000);
    const swept = await sweepExpiredLeases(hub.deps);
    expect(swept.failed).toContain(running);
    expect(swept.canceled).toContain(unstarted);
    expect(await jobOf(running)).toMatchObject({ status: "failed", ended_reason: "agent_lost" });
    for (const id of [running, unstarted]) {
      const after = await call("POST", `/${id}/complete`, { result: { return_code: 0 } });
      expect(after.status).toBe(409);
      expect(codeOf(after.body)).toBe("lease_lost");
    }
  });
});
