import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Job, JobAccepted, JobLog, JobLogsResponse } from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { createTestHub } from "../../helpers/hub.ts";
import {
  addAgentMachine,
  createRepository,
  type TestAgent,
  userWithRole,
} from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
const server = hub.serve();
let operator: string;
let viewer: string;
let agentA: TestAgent;
let agentB: TestAgent;
let repoA: number;
let repoB: number;

beforeAll(async () => {
  operator = await userWithRole(hub, "operator");
  viewer = await userWithRole(hub, "viewer");
  agentA = await addAgentMachine(hub);
  agentB = await addAgentMachine(hub);
  repoA = (await createRepository(hub, await hub.login(), agentA.machineId)).id;
  repoB = (await createRepository(hub, await hub.login(), agentB.machineId)).id;
});
afterAll(() => {
  server.stop();
  hub.close();
});

async function queue(repositoryId: number, action = "check"): Promise<number> {
  const response = await hub.request("POST", `/api/repositories/${repositoryId}/${action}`, {
    token: operator,
  });
  if (response.status !== 202) throw new Error(response.text);
  return JobAccepted.parse(response.body).job_id;
}

const agentCall = (agent: TestAgent, method: string, path: string, body?: unknown) =>
  hub.request(method, `/api/agents/jobs${path}`, { agentToken: agent.token, body });

const logLine = (sequence: number) => ({
  sequence,
  stream: "stdout",
  message: `line ${sequence}`,
  created_at: new Date().toISOString(),
});

describe("job list and reads", () => {
  test("list: newest first, filters by repository, machine and status, pages with before", async () => {
    const a1 = await queue(repoA);
    const b1 = await queue(repoB);
    const a2 = await queue(repoA);
    await agentCall(agentA, "POST", `/${a2}/claim`);

    const all = Job.array().parse((await hub.request("GET", "/api/jobs", { token: viewer })).body);
    const ids = all.map((j) => j.id);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect(ids).toEqual(expect.arrayContaining([a1, b1, a2]));

    const byRepo = Job.array().parse(
      (await hub.request("GET", `/api/jobs?repository_id=${repoA}`, { token: viewer })).body,
    );
    expect(byRepo.every((j) => j.repository_id === repoA)).toBe(true);
    expect(byRepo.map((j) => j.id)).toEqual(expect.arrayContaining([a1, a2]));

    const byMachine = Job.array().parse(
      (
        await hub.request("GET", `/api/jobs?agent_machine_id=${agentB.machineId}`, {
          token: viewer,
        })
      ).body,
    );
    expect(byMachine.map((j) => j.id)).toEqual([b1]);

    const claimed = Job.array().parse(
      (await hub.request("GET", "/api/jobs?status=claimed", { token: viewer })).body,
    );
    expect(claimed.map((j) => j.id)).toEqual([a2]);

    const page = Job.array().parse(
      (await hub.request("GET", `/api/jobs?limit=1&before=${a2}`, { token: viewer })).body,
    );
    expect(page.map((j) => j.id)).toEqual([b1]);

    expect((await hub.request("GET", "/api/jobs?status=bogus", { token: viewer })).status).toBe(
      400,
    );
    expect((await hub.request("GET", "/api/jobs?colour=red", { token: viewer })).status).toBe(400);
    expect((await hub.request("GET", "/api/jobs")).status).toBe(401);
  });

  test("one job: all fields; unknown ids 404", async () => {
    const id = await queue(repoA);
    const job = Job.parse((await hub.request("GET", `/api/jobs/${id}`, { token: viewer })).body);
    expect(job).toMatchObject({
      id,
      type: "repo.check",
      status: "queued",
      repository_id: repoA,
      agent_machine_id: agentA.machineId,
      result: null,
      error_message: null,
      return_code: null,
      claimed_at: null,
      started_at: null,
      completed_at: null,
      progress: { progress_percent: null, updated_at: null },
    });
    expect(job.triggered_by).toMatch(/^user:\d+:operator-/);
    expect((await hub.request("GET", "/api/jobs/999999", { token: viewer })).status).toBe(404);
    expect((await hub.request("GET", "/api/jobs/999999/logs", { token: viewer })).status).toBe(404);
  });

  test("logs page by after_sequence and limit", async () => {
    const id = await queue(repoA);
    await agentCall(agentA, "POST", `/${id}/claim`);
    await agentCall(agentA, "POST", `/${id}/logs`, { entries: [4, 0, 3, 1, 2].map(logLine) });
    const read = async (query: string) =>
      JobLogsResponse.parse(
        (await hub.request("GET", `/api/jobs/${id}/logs${query}`, { token: viewer })).body,
      );
    const first = await read("?limit=2");
    expect(first.logs.map((l) => l.sequence)).toEqual([0, 1]);
    const second = await read(`?limit=2&after_sequence=${first.next_sequence}`);
    expect(second.logs.map((l) => l.sequence)).toEqual([2, 3]);
    const last = await read(`?limit=2&after_sequence=${second.next_sequence}`);
    expect(last.logs.map((l) => l.sequence)).toEqual([4]);
    const empty = await read(`?after_sequence=${last.next_sequence}`);
    expect(empty).toEqual({ logs: [], next_sequence: 4 });
  });

  test("cancel needs the operator role; unknown job 404", async () => {
    const id = await queue(repoA);
    expect((await hub.request("POST", `/api/jobs/${id}/cancel`, { token: viewer })).status).toBe(
      403,
    );
    expect((await hub.request("POST", "/api/jobs/999999/cancel", { token: operator })).status).toBe(
      404,
    );
    const canceled = await hub.request("POST", `/api/jobs/${id}/cancel`, { token: operator });
    expect(canceled.status).toBe(202);
    expect(canceled.body).toEqual({ status: "canceled" });
    const job = Job.parse((await hub.request("GET", `/api/jobs/${id}`, { token: viewer })).body);
    expect(job.status).toBe("canceled");
    expect(job.completed_at).not.toBeNull();
    const again = await hub.request("POST", `/api/jobs/${id}/cancel`, { token: operator });
    expect(again.status).toBe(409);
    expect(ErrorBody.parse(again.body).code).toBe("conflict");
  });
});

interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads Server-Sent Events from a live response, one at a time. */
function sseReader(response: Response) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const comments: string[] = [];
  return {
    comments,
    async next(): Promise<SseEvent | undefined> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = "message";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line);
            else if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (data.length === 0) continue;
          return { event, data: JSON.parse(data.join("\n")) };
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

const openEvents = (id: number, query = "") =>
  fetch(`${server.url}/api/jobs/${id}/events${query}`, {
    headers: { authorization: `Bearer ${viewer}` },
  });

describe("live job events (SSE)", () => {
  test("status, history, then live progress and logs, then end", async () => {
    const id = await queue(repoA, "backup");
    await agentCall(agentA, "POST", `/${id}/claim`);
    await agentCall(agentA, "POST", `/${id}/start`);
    await agentCall(agentA, "POST", `/${id}/logs`, { entries: [0, 1].map(logLine) });

    const response = await openEvents(id);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = sseReader(response);
    const first = await events.next();
    expect(first?.event).toBe("status");
    expect(Job.parse(first?.data)).toMatchObject({ id, status: "running" });
    const history = [await events.next(), await events.next()];
    expect(history.map((e) => e?.event)).toEqual(["log", "log"]);
    expect(history.map((e) => JobLog.parse(e?.data).sequence)).toEqual([0, 1]);

    // Sent after the stream subscribed: arrives live. The duplicate line 1 is not repeated.
    await agentCall(agentA, "POST", `/${id}/progress`, { progress_percent: 50, nfiles: 7 });
    await agentCall(agentA, "POST", `/${id}/logs`, { entries: [1, 2].map(logLine) });
    const progress = await events.next();
    expect(progress?.event).toBe("progress");
    expect(progress?.data).toMatchObject({ progress_percent: 50, nfiles: 7 });
    const live = await events.next();
    expect(live?.event).toBe("log");
    expect(JobLog.parse(live?.data)).toMatchObject({ sequence: 2, message: "line 2" });

    await agentCall(agentA, "POST", `/${id}/complete`, { result: { return_code: 0 } });
    const status = await events.next();
    expect(status?.event).toBe("status");
    expect(Job.parse(status?.data).status).toBe("completed");
    const end = await events.next();
    expect(end).toEqual({ event: "end", data: { status: "completed" } });
    expect(await events.next()).toBeUndefined(); // the stream is closed
    expect(hub.deps.notifier.waiting).toBe(0);
  });

  test("after_sequence skips history; a user's cancel is streamed too", async () => {
    const id = await queue(repoA);
    await agentCall(agentA, "POST", `/${id}/claim`);
    await agentCall(agentA, "POST", `/${id}/logs`, { entries: [0, 1, 2].map(logLine) });
    const events = sseReader(await openEvents(id, "?after_sequence=1"));
    expect((await events.next())?.event).toBe("status");
    const history = await events.next();
    expect(JobLog.parse(history?.data).sequence).toBe(2);

    await hub.request("POST", `/api/jobs/${id}/cancel`, { token: operator });
    const requested = await events.next();
    expect(requested?.event).toBe("status");
    expect(Job.parse(requested?.data).status).toBe("cancel_requested");
    await agentCall(agentA, "POST", `/${id}/canceled`, {});
    expect(Job.parse((await events.next())?.data).status).toBe("canceled");
    expect((await events.next())?.event).toBe("end");
  });

  test("a finished job: status, its logs, end; an unknown job is a JSON 404", async () => {
    const id = await queue(repoA);
    await agentCall(agentA, "POST", `/${id}/claim`);
    await agentCall(agentA, "POST", `/${id}/logs`, logLine(0));
    await agentCall(agentA, "POST", `/${id}/fail`, { error_message: "boom", return_code: 2 });
    const events = sseReader(await openEvents(id));
    expect(Job.parse((await events.next())?.data).status).toBe("failed");
    expect((await events.next())?.event).toBe("log");
    expect(await events.next()).toEqual({ event: "end", data: { status: "failed" } });
    expect(await events.next()).toBeUndefined();

    const missing = await openEvents(987_654);
    expect(missing.status).toBe(404);
    expect(ErrorBody.parse(await missing.json()).code).toBe("not_found");
    const anonymous = await fetch(`${server.url}/api/jobs/${id}/events`);
    expect(anonymous.status).toBe(401);
  });

  test("a viewer who disconnects leaves no subscription behind", async () => {
    const id = await queue(repoA);
    const events = sseReader(await openEvents(id));
    expect((await events.next())?.event).toBe("status");
    await events.cancel();
    // The bus drops the listener once the stream notices; a publish must not throw meanwhile.
    for (let i = 0; i < 100; i++) {
      hub.deps.events.publish(id, { type: "status", data: { status: "queued" } });
      await Bun.sleep(10);
      if (!(hub.deps.events as unknown as { listeners: Map<number, unknown> }).listeners.has(id))
        break;
    }
    expect(
      (hub.deps.events as unknown as { listeners: Map<number, unknown> }).listeners.has(id),
    ).toBe(false);
  });
});
