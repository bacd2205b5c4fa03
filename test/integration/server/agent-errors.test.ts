/**
 * A 400 to an agent names the field and the reason, so an agent (or its author) can act
 * on it: zod's own answer for a body that matches no branch of the logs union was
 * `{"error":"Invalid input","details":[{"path":""…}]}`. Each refused upload also changes
 * nothing. Through app.request() on the real hub.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine, createRepository, type TestAgent } from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
let agent: TestAgent;
let jobId: number;

interface Refusal {
  error: string;
  code: string;
  details: { path: string; message: string }[];
}

beforeAll(async () => {
  const admin = await hub.login();
  agent = await addAgentMachine(hub);
  const repository = await createRepository(hub, admin, agent.machineId);
  const queued = await hub.request("POST", `/api/repositories/${repository.id}/backup`, {
    token: admin,
    body: {},
  });
  jobId = (queued.body as { job_id: number }).job_id;
  expect(
    (
      await hub.request("POST", `/api/agents/jobs/${jobId}/claim`, {
        agentToken: agent.token,
        body: {},
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await hub.request("POST", `/api/agents/jobs/${jobId}/start`, {
        agentToken: agent.token,
        body: {},
      })
    ).status,
  ).toBe(200);
});

async function refused(path: string, body: unknown): Promise<Refusal> {
  const reply = await hub.request("POST", `/api/agents${path}`, { agentToken: agent.token, body });
  expect(reply.status).toBe(400);
  const refusal = reply.body as Refusal;
  expect(refusal.code).toBe("validation_failed");
  // Never the old answer that names nothing.
  expect(refusal.details.every((d) => d.path !== "" && d.message !== "Invalid input")).toBe(true);
  return refusal;
}

const logsPath = () => `/jobs/${jobId}/logs`;

describe("agent runtime 400s name the field", () => {
  test("one log entry without its message", async () => {
    const refusal = await refused(logsPath(), { sequence: 1, stream: "stdout" });
    expect(refusal.error).toBe("message: required");
    expect(refusal.details).toEqual([{ path: "message", message: "required" }]);
  });

  test("one log entry with a stream the hub does not know", async () => {
    const refusal = await refused(logsPath(), { sequence: 1, stream: "tty", message: "m" });
    expect(refusal.details).toEqual([
      { path: "stream", message: 'expected one of "stdout"|"stderr"|"agent"' },
    ]);
  });

  test("a batch: the entry and its field", async () => {
    const refusal = await refused(logsPath(), {
      entries: [
        { sequence: 1, stream: "stdout", message: "fine" },
        { sequence: -1, stream: "stdout", message: "bad" },
      ],
    });
    expect(refusal.error).toStartWith("entries.1.sequence: ");
    expect(refusal.details.map((d) => d.path)).toEqual(["entries.1.sequence"]);
  });

  test("a refused batch stores nothing, not even its good entries", async () => {
    const admin = await hub.login();
    const logs = await hub.request("GET", `/api/jobs/${jobId}/logs`, { token: admin });
    expect(logs.status).toBe(200);
    expect((logs.body as { logs: unknown[] }).logs).toEqual([]);
  });

  test("complete without return_code; a result field of the wrong type", async () => {
    const missing = await refused(`/jobs/${jobId}/complete`, { result: {} });
    expect(missing.details).toEqual([{ path: "result.return_code", message: "required" }]);
    const wrong = await refused(`/jobs/${jobId}/complete`, {
      result: { return_code: 0, archive_name: 7 },
    });
    expect(wrong.details).toEqual([
      { path: "result.archive_name", message: "expected string, received number" },
    ]);
  });

  test("fail without error_message; heartbeat with a bad running_job_ids entry", async () => {
    const fail = await refused(`/jobs/${jobId}/fail`, { return_code: 2 });
    expect(fail.details).toEqual([{ path: "error_message", message: "required" }]);
    const heartbeat = await refused("/heartbeat", {
      agent_id: agent.agentId,
      running_job_ids: [jobId, "x"],
    });
    expect(heartbeat.details).toEqual([
      { path: "running_job_ids.1", message: "expected number, received string" },
    ]);
  });

  test("a progress body of the wrong type names the request body", async () => {
    const reply = await hub.request("POST", `/api/agents/jobs/${jobId}/progress`, {
      agentToken: agent.token,
      body: [42],
    });
    expect(reply.status).toBe(400);
    expect((reply.body as Refusal).error).toBe("request body: expected object, received array");
  });

  test("the job is still running after every refusal", async () => {
    const admin = await hub.login();
    const job = await hub.request("GET", `/api/jobs/${jobId}`, { token: admin });
    expect((job.body as { status: string }).status).toBe("running");
  });
});
