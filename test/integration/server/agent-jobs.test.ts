import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobStore, Store } from "../../../src/server/db/store.ts";
import { sweepExpiredLeases } from "../../../src/server/services/job-sweeper.ts";
import {
  AgentJobStatus,
  ClaimResponse,
  JobPayload,
  LogsResponse,
  PollResponse,
  UploadResponse,
} from "../../../src/shared/protocol/agent.ts";
import {
  Archives,
  DEFAULT_ARCHIVE_NAME,
  Job,
  JobAccepted,
  JobLogsResponse,
  Repository,
} from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { createTestHub, type TestHub } from "../../helpers/hub.ts";
import {
  addAgentMachine,
  createRepository,
  type TestAgent,
  userWithRole,
} from "../../helpers/hub-fixtures.ts";

const PASSPHRASE = "a passphrase that must stay secret 42";

const at = (ms = 0) => new Date(Date.now() + ms).toISOString();

function runtime(hub: TestHub, agent: TestAgent) {
  return (method: string, path: string, body?: unknown) =>
    hub.request(method, `/api/agents/jobs${path}`, { agentToken: agent.token, body });
}

async function queue(
  hub: TestHub,
  token: string,
  repositoryId: number,
  action = "backup",
  body?: unknown,
): Promise<number> {
  const response = await hub.request("POST", `/api/repositories/${repositoryId}/${action}`, {
    token,
    body,
  });
  if (response.status !== 202) throw new Error(`queue failed: ${response.text}`);
  return JobAccepted.parse(response.body).job_id;
}

async function jobOf(hub: TestHub, token: string, id: number) {
  const response = await hub.request("GET", `/api/jobs/${id}`, { token });
  expect(response.status).toBe(200);
  return Job.parse(response.body);
}

const codeOf = (body: unknown) => ErrorBody.parse(body).code;

describe("agent job lifecycle", () => {
  const hub = createTestHub();
  let operator: string;
  let agent: TestAgent;
  let repo: Repository;
  let call: ReturnType<typeof runtime>;
  beforeAll(async () => {
    operator = await userWithRole(hub, "operator");
    agent = await addAgentMachine(hub);
    repo = await createRepository(hub, await hub.login(), agent.machineId, {
      passphrase: PASSPHRASE,
    });
    call = runtime(hub, agent);
  });
  afterAll(() => hub.close());

  test("poll → claim → start → progress → logs → complete", async () => {
    const id = await queue(hub, operator, repo.id);

    const poll = await call("GET", "/poll?limit=5");
    expect(poll.status).toBe(200);
    const polled = PollResponse.parse(poll.body);
    expect(polled.jobs).toEqual([
      {
        id,
        type: "backup.create",
        job_kind: "backup.create",
        repository_id: repo.id,
        created_at: expect.any(String),
        // The spec's payload, the passphrase only as a reference (the claim has it).
        payload: expect.objectContaining({
          schema_version: 1,
          job_kind: "backup.create",
          secrets: {
            passphrase_location: "hub",
            passphrase: { secret_ref: "repository-passphrase" },
          },
        }),
      },
    ]);
    expect(poll.text).not.toContain(PASSPHRASE);

    const claim = await call("POST", `/${id}/claim`);
    expect(claim.status).toBe(200);
    const claimed = ClaimResponse.parse(claim.body);
    JobPayload.parse(claimed.job);
    expect(claimed.job).toMatchObject({
      schema_version: 1,
      job_id: id,
      job_kind: "backup.create",
      repository: {
        id: repo.id,
        name: repo.name,
        location: repo.location,
        borg_version: 1,
        encryption: "repokey-blake2",
        append_only: false,
        ssh_host_key: null,
      },
      backup: {
        archive_name: DEFAULT_ARCHIVE_NAME,
        source_paths: ["/home", "/etc"],
        exclude_patterns: ["*.tmp"],
        compression: "lz4",
      },
      secrets: { passphrase_location: "hub", passphrase: PASSPHRASE },
    });
    // Claimed jobs leave the poll.
    expect(PollResponse.parse((await call("GET", "/poll")).body).jobs).toEqual([]);
    expect((await jobOf(hub, operator, id)).status).toBe("claimed");

    const start = await call("POST", `/${id}/start`, { started_at: at() });
    expect(UploadResponse.parse(start.body)).toEqual({
      status: "running",
      cancel_requested: false,
    });
    // A retried start is harmless.
    expect(UploadResponse.parse((await call("POST", `/${id}/start`)).body).status).toBe("running");

    const progress = await call("POST", `/${id}/progress`, {
      progress_percent: 42.5,
      current_file: "/home/me/report.pdf",
      original_size: 1000,
      compressed_size: 600,
      deduplicated_size: 100,
      nfiles: 12,
      backup_speed: 2048,
      estimated_time_remaining: 60,
    });
    expect(UploadResponse.parse(progress.body)).toEqual({
      status: "running",
      cancel_requested: false,
    });
    const running = await jobOf(hub, operator, id);
    expect(running.progress).toMatchObject({
      progress_percent: 42.5,
      current_file: "/home/me/report.pdf",
      nfiles: 12,
      phase: null,
    });
    expect(running.progress.updated_at).not.toBeNull();
    expect(running.started_at).not.toBeNull();

    // Out of order, duplicated, single and batched: each sequence stored once, read in order.
    const line = (sequence: number, message = `line ${sequence}`) => ({
      sequence,
      stream: "stderr",
      message,
      created_at: at(sequence),
    });
    const first = await call("POST", `/${id}/logs`, { entries: [line(2), line(0)] });
    expect(LogsResponse.parse(first.body)).toMatchObject({ accepted: 2, duplicates: 0 });
    const single = await call("POST", `/${id}/logs`, line(1, `using passphrase ${PASSPHRASE}`));
    expect(LogsResponse.parse(single.body)).toMatchObject({ accepted: 1, duplicates: 0 });
    const retry = await call("POST", `/${id}/logs`, { entries: [line(0), line(2), line(3)] });
    expect(LogsResponse.parse(retry.body)).toEqual({
      status: "running",
      cancel_requested: false,
      accepted: 1,
      duplicates: 2,
    });
    const logs = await hub.request("GET", `/api/jobs/${id}/logs`, { token: operator });
    const page = JobLogsResponse.parse(logs.body);
    expect(page.logs.map((l) => l.sequence)).toEqual([0, 1, 2, 3]);
    expect(page.logs[1]?.message).toBe("using passphrase [redacted]");
    expect(page.next_sequence).toBe(3);
    expect(logs.text).not.toContain(PASSPHRASE);
    const after = JobLogsResponse.parse(
      (
        await hub.request("GET", `/api/jobs/${id}/logs?after_sequence=1&limit=1`, {
          token: operator,
        })
      ).body,
    );
    expect(after.logs.map((l) => l.sequence)).toEqual([2]);
    expect(after.next_sequence).toBe(2);

    const complete = await call("POST", `/${id}/complete`, {
      completed_at: at(),
      result: {
        return_code: 0,
        archive_name: "host-2026-01-01T00:00:00",
        stats: { original_size: 1000, compressed_size: 600, deduplicated_size: 100, nfiles: 12 },
      },
    });
    expect(UploadResponse.parse(complete.body).status).toBe("completed");
    const done = await jobOf(hub, operator, id);
    expect(done).toMatchObject({
      status: "completed",
      return_code: 0,
      error_message: null,
      result: {
        archive_name: "host-2026-01-01T00:00:00",
        stats: { original_size: 1000, compressed_size: 600, deduplicated_size: 100, nfiles: 12 },
      },
    });
    expect(done.completed_at).not.toBeNull();
    const repoAfter = Repository.parse(
      (await hub.request("GET", `/api/repositories/${repo.id}`, { token: operator })).body,
    );
    expect(repoAfter).toMatchObject({
      last_backup_at: done.completed_at,
      last_result: "completed",
      last_job_id: id,
    });

    // After the terminal report, every upload answers 409.
    for (const [path, body] of [
      ["/start", {}],
      ["/progress", { nfiles: 1 }],
      ["/logs", line(9)],
      ["/complete", { result: { return_code: 0 } }],
      ["/fail", { error_message: "x" }],
      ["/canceled", {}],
    ] as const) {
      const late = await call("POST", `/${id}${path}`, body);
      expect(late.status).toBe(409);
      expect(ErrorBody.parse(late.body)).toMatchObject({
        code: "conflict",
        details: { status: "completed" },
      });
    }
    // Claim of a finished job is refused too.
    expect((await call("POST", `/${id}/claim`)).status).toBe(409);

    const audit = await hub.request("GET", "/api/audit?limit=1000", { token: await hub.login() });
    const actions = (audit.body as { action: string; target: string }[])
      .filter((e) => e.target === `job:${id}`)
      .map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["job.queue", "job.claim", "job.start", "job.complete"]),
    );
    expect(audit.text).not.toContain(PASSPHRASE);
    expect(hub.logLines.join("\n")).not.toContain(PASSPHRASE);
  });

  // The agent classifies borg's exit code (src/borg/exit.ts) and reports /complete or
  // /fail; the hub does not re-map codes: a completed report is completed at 0 and
  // completed with warnings otherwise.
  test("a completed report: code 0 is completed, any other code completed with warnings", async () => {
    const expected = [
      [0, "completed", null],
      [1, "completed_with_warnings", null],
      [2, "completed_with_warnings", null],
      [105, "completed_with_warnings", null],
      [3, "completed_with_warnings", null],
    ] as const;
    for (const [code, status, message] of expected) {
      const id = await queue(hub, operator, repo.id, "check");
      expect((await call("POST", `/${id}/claim`)).status).toBe(200);
      expect((await call("POST", `/${id}/start`)).status).toBe(200);
      const response = await call("POST", `/${id}/complete`, {
        result: { return_code: code, warnings: code === 1 ? ["file changed"] : undefined },
      });
      expect(response.status).toBe(200);
      expect(UploadResponse.parse(response.body).status).toBe(status);
      const job = await jobOf(hub, operator, id);
      expect(job).toMatchObject({ status, return_code: code, error_message: message });
      if (code === 1) expect(job.result?.warnings).toEqual(["file changed"]);
    }
  });

  test("an archive list lands on the repository; the job keeps the count", async () => {
    const id = await queue(hub, operator, repo.id, "list");
    const claimed = ClaimResponse.parse((await call("POST", `/${id}/claim`)).body);
    expect(claimed.job.job_kind).toBe("archive.list");
    await call("POST", `/${id}/start`);
    const archives = [
      { id: "aa11", name: "host-1", time: "2026-01-01T00:00:00.000000" },
      { id: "bb22", name: "host-2", time: "2026-01-02T00:00:00.000000" },
    ];
    const done = await call("POST", `/${id}/complete`, { result: { return_code: 0, archives } });
    expect(done.status).toBe(200);
    const job = await jobOf(hub, operator, id);
    expect(job.result).toEqual({ archive_count: 2 });
    const listed = Archives.parse(
      (await hub.request("GET", `/api/repositories/${repo.id}/archives`, { token: operator })).body,
    );
    expect(listed.archives).toEqual(archives);
    expect(listed.listed_at).toBe(job.completed_at);
  });

  test("payload blocks: prune, check, init", async () => {
    const prune = await queue(hub, operator, repo.id, "prune", {
      keep_daily: 7,
      keep_within: "2d",
    });
    const check = await queue(hub, operator, repo.id, "check", { verify_data: true });
    const init = await queue(hub, operator, repo.id, "init");
    const payload = async (id: number) =>
      ClaimResponse.parse((await call("POST", `/${id}/claim`)).body).job;
    expect((await payload(prune)).prune).toEqual({
      keep_daily: 7,
      keep_within: "2d",
      dry_run: false,
    });
    expect((await payload(check)).check).toEqual({ repository_only: false, verify_data: true });
    expect((await payload(init)).init).toEqual({ encryption: "repokey-blake2" });
    for (const id of [prune, check, init]) {
      await call("POST", `/${id}/canceled`, {});
    }
  });

  test("fail records the error (redacted) and the return code; the repository's last result", async () => {
    const fresh = await createRepository(hub, await hub.login(), agent.machineId, {
      passphrase: PASSPHRASE,
    });
    const id = await queue(hub, operator, fresh.id);
    await call("POST", `/${id}/claim`);
    await call("POST", `/${id}/start`);
    const failed = await call("POST", `/${id}/fail`, {
      completed_at: at(),
      error_message: `Connection closed by remote host (tried ${PASSPHRASE})`,
      return_code: 2,
    });
    expect(UploadResponse.parse(failed.body).status).toBe("failed");
    const job = await jobOf(hub, operator, id);
    expect(job).toMatchObject({
      status: "failed",
      return_code: 2,
      error_message: "Connection closed by remote host (tried [redacted])",
    });
    const after = Repository.parse(
      (await hub.request("GET", `/api/repositories/${fresh.id}`, { token: operator })).body,
    );
    expect(after).toMatchObject({ last_result: "failed", last_job_id: id, last_backup_at: null });
  });

  test("cancel: queued → canceled at once; running → cancel_requested → canceled", async () => {
    const queued = await queue(hub, operator, repo.id, "check");
    const cancelQueued = await hub.request("POST", `/api/jobs/${queued}/cancel`, {
      token: operator,
    });
    expect(cancelQueued.status).toBe(202);
    expect(cancelQueued.body).toEqual({ status: "canceled" });
    expect((await call("POST", `/${queued}/claim`)).status).toBe(409);
    expect(PollResponse.parse((await call("GET", "/poll")).body).jobs).toEqual([]);

    const id = await queue(hub, operator, repo.id, "check");
    await call("POST", `/${id}/claim`);
    await call("POST", `/${id}/start`);
    const request = await hub.request("POST", `/api/jobs/${id}/cancel`, { token: operator });
    expect(request.status).toBe(202);
    expect(request.body).toEqual({ status: "cancel_requested" });
    // Asking twice is harmless.
    expect((await hub.request("POST", `/api/jobs/${id}/cancel`, { token: operator })).body).toEqual(
      { status: "cancel_requested" },
    );
    const status = AgentJobStatus.parse((await call("GET", `/${id}`)).body);
    expect(status).toEqual({ id, status: "cancel_requested", cancel_requested: true });
    const progress = UploadResponse.parse(
      (await call("POST", `/${id}/progress`, { nfiles: 3 })).body,
    );
    expect(progress).toEqual({ status: "cancel_requested", cancel_requested: true });
    const canceled = await call("POST", `/${id}/canceled`, { completed_at: at(), return_code: 2 });
    expect(UploadResponse.parse(canceled.body).status).toBe("canceled");
    const job = await jobOf(hub, operator, id);
    expect(job).toMatchObject({ status: "canceled", return_code: 2 });
    const again = await hub.request("POST", `/api/jobs/${id}/cancel`, { token: operator });
    expect(again.status).toBe(409);
    expect((await call("POST", `/${id}/progress`, { nfiles: 4 })).status).toBe(409);

    // An agent may also report canceled for a running job nobody asked to cancel (shutdown).
    const running = await queue(hub, operator, repo.id, "check");
    await call("POST", `/${running}/claim`);
    await call("POST", `/${running}/start`);
    expect(UploadResponse.parse((await call("POST", `/${running}/canceled`, {})).body).status).toBe(
      "canceled",
    );
  });

  test("bad uploads: wrong types are 400 (unknown fields are ignored); non-numeric ids 404", async () => {
    const id = await queue(hub, operator, repo.id, "check");
    await call("POST", `/${id}/claim`);
    // A newer agent's field: ignored, so agents and hubs of different versions keep talking.
    expect((await call("POST", `/${id}/progress`, { nfiles: 1, secret: "x" })).status).toBe(200);
    expect((await call("POST", `/${id}/progress`, { progress_percent: 101 })).status).toBe(400);
    expect(
      (
        await call("POST", `/${id}/logs`, {
          sequence: -1,
          stream: "x",
          message: "",
          created_at: "",
        })
      ).status,
    ).toBe(400);
    expect((await call("POST", `/${id}/complete`, { result: {} })).status).toBe(400);
    expect((await call("POST", "/abc/claim")).status).toBe(404);
    expect((await call("GET", "/poll?limit=0")).status).toBe(400);
    // No credential, a user credential: 401.
    expect((await hub.request("GET", "/api/agents/jobs/poll")).status).toBe(401);
    expect((await hub.request("GET", "/api/agents/jobs/poll", { token: operator })).status).toBe(
      401,
    );
    await call("POST", `/${id}/canceled`, {});
  });
});

describe("isolation between agents", () => {
  const hub = createTestHub();
  afterAll(() => hub.close());

  test("agent B never sees agent A's job: 404 on every route, absent from its poll", async () => {
    const operator = await userWithRole(hub, "operator");
    const a = await addAgentMachine(hub);
    const b = await addAgentMachine(hub);
    const repo = await createRepository(hub, await hub.login(), a.machineId, {
      passphrase: PASSPHRASE,
    });
    const id = await queue(hub, operator, repo.id);
    const asB = runtime(hub, b);
    const unknown = await asB("POST", "/987654/claim");
    expect(unknown.status).toBe(404);

    expect(PollResponse.parse((await asB("GET", "/poll?limit=10")).body).jobs).toEqual([]);
    const attempts: [string, string, unknown][] = [
      ["POST", `/${id}/claim`, undefined],
      ["POST", `/${id}/start`, {}],
      ["POST", `/${id}/progress`, { nfiles: 1 }],
      ["POST", `/${id}/logs`, { sequence: 0, stream: "stderr", message: "x", created_at: at() }],
      ["POST", `/${id}/complete`, { result: { return_code: 0 } }],
      ["POST", `/${id}/fail`, { error_message: "x" }],
      ["POST", `/${id}/canceled`, {}],
      ["GET", `/${id}`, undefined],
    ];
    const probe = async () => {
      for (const [method, path, body] of attempts) {
        const response = await asB(method, path, body);
        expect(response.status).toBe(404);
        expect(codeOf(response.body)).toBe("not_found");
        expect(response.text).not.toContain(PASSPHRASE);
      }
    };
    await probe(); // while queued
    const asA = runtime(hub, a);
    expect((await asA("POST", `/${id}/claim`)).status).toBe(200);
    await probe(); // while claimed
    expect((await asA("POST", `/${id}/start`)).status).toBe(200);
    await probe(); // while running
    expect((await jobOf(hub, operator, id)).status).toBe("running");
    expect(await hub.deps.store.jobs.logs(id, -1, 10)).toEqual([]);
  });
});

describe("long poll", () => {
  const hub = createTestHub();
  const server = hub.serve();
  afterAll(() => {
    server.stop();
    hub.close();
  });

  const poll = (agent: TestAgent, query: string, signal?: AbortSignal) =>
    fetch(`${server.url}/api/agents/jobs/poll?${query}`, {
      headers: { "x-borg-agent-authorization": `Bearer ${agent.token}` },
      signal,
    });

  const until = async (condition: () => boolean) => {
    for (let i = 0; i < 500 && !condition(); i++) await Bun.sleep(10);
    expect(condition()).toBe(true);
  };

  test("answers with the job queued during the wait, long before the wait would end", async () => {
    const operator = await userWithRole(hub, "operator");
    const agent = await addAgentMachine(hub);
    const other = await addAgentMachine(hub);
    const repo = await createRepository(hub, await hub.login(), agent.machineId);

    const started = performance.now();
    const otherPoll = poll(other, "wait=2");
    const pending = poll(agent, "limit=1&wait=30");
    await until(() => hub.deps.notifier.waiting === 2);
    const id = await queue(hub, operator, repo.id);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(PollResponse.parse(await response.json()).jobs.map((j) => j.id)).toEqual([id]);
    // Generous: the point is that it did not sit out the 30 s wait.
    expect(performance.now() - started).toBeLessThan(20_000);
    // The other agent is not woken with someone else's job; its wait ends empty.
    const otherResponse = await otherPoll;
    expect(PollResponse.parse(await otherResponse.json()).jobs).toEqual([]);
  });

  test("a job already queued is answered at once; a client that goes away is freed by its next poll", async () => {
    const operator = await userWithRole(hub, "operator");
    const agent = await addAgentMachine(hub);
    const repo = await createRepository(hub, await hub.login(), agent.machineId);
    const id = await queue(hub, operator, repo.id, "check");
    const immediate = await poll(agent, "wait=30");
    expect(PollResponse.parse(await immediate.json()).jobs.map((j) => j.id)).toEqual([id]);
    expect(hub.deps.notifier.waiting).toBe(0);

    const other = await addAgentMachine(hub);
    const abort = new AbortController();
    const gone = poll(other, "wait=30", abort.signal).catch(() => "aborted");
    await until(() => hub.deps.notifier.waiting === 1);
    abort.abort();
    expect(await gone).toBe("aborted");
    // Nothing scans the open waits: the agent's next poll frees the abandoned one (whose
    // own deadline is 30 s away), so once that poll ends nothing waits. The hub may learn
    // of the closed connection just after the first poll arrives; a later one frees it.
    for (let i = 0; i < 5 && (i === 0 || hub.deps.notifier.waiting > 0); i++) {
      const again = await poll(other, "wait=1");
      expect(PollResponse.parse(await again.json()).jobs).toEqual([]);
    }
    expect(hub.deps.notifier.waiting).toBe(0);
  });
});

/**
 * `store` with every jobs.claim, inside transactions too, passed through `claim` (which
 * gets the real one): lets a test hold claims at the store whatever path a service takes.
 */
function withClaim(
  store: Store,
  claim: (
    real: JobStore["claim"],
    ...args: Parameters<JobStore["claim"]>
  ) => ReturnType<JobStore["claim"]>,
): Store {
  const jobs = new Proxy(store.jobs, {
    get: (target, key, receiver) =>
      key === "claim"
        ? (...args: Parameters<JobStore["claim"]>) => claim((...a) => target.claim(...a), ...args)
        : Reflect.get(target, key, receiver),
  });
  return new Proxy(store, {
    get: (target, key, receiver) => {
      if (key === "jobs") return jobs;
      if (key === "transaction") {
        return <T>(work: (tx: Store) => Promise<T>) =>
          target.transaction((tx) => work(withClaim(tx, claim)));
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

describe("concurrent claims", () => {
  const hub = createTestHub();
  const server = hub.serve();
  afterAll(() => {
    server.stop();
    hub.close();
  });

  const post = (agent: TestAgent, path: string) =>
    fetch(`${server.url}/api/agents/jobs${path}`, {
      method: "POST",
      headers: { "x-borg-agent-authorization": `Bearer ${agent.token}` },
    });

  const claimAudits = async (admin: string) => {
    const audit = await hub.request("GET", "/api/audit?limit=1000&action=job.claim", {
      token: admin,
    });
    return (audit.body as { target: string }[]).map((e) => e.target);
  };

  test("10 claims of one job by its owner: one transition, ten identical payloads", async () => {
    const admin = await hub.login();
    const agent = await addAgentMachine(hub);
    const repo = await createRepository(hub, admin, agent.machineId);
    const id = await queue(hub, admin, repo.id);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => post(agent, `/${id}/claim`)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    const bodies = await Promise.all(
      responses.map(async (r) => ClaimResponse.parse(await r.json())),
    );
    for (const body of bodies) expect(body).toEqual(bodies[0] as (typeof bodies)[number]);
    expect((await claimAudits(admin)).filter((t) => t === `job:${id}`)).toHaveLength(1);
  });

  test("10 agents race for one job: 19 claims at once make one transition; the owner's 10 get one payload, the other 9 a missing job's 404", async () => {
    // Jobs are assigned to one machine when queued, so no two agents can both be
    // entitled to one: the race is the owner's ten claims (one must transition, nine are
    // retries) against nine other agents' claims (each must be refused without learning
    // the job exists).
    const admin = await hub.login();
    const agents = await Promise.all(Array.from({ length: 10 }, () => addAgentMachine(hub)));
    const owner = agents[3] as TestAgent;
    const others = agents.filter((a) => a !== owner);
    const repo = await createRepository(hub, admin, owner.machineId);
    const id = await queue(hub, admin, repo.id);
    // What an agent is told about a job id that does not exist at all.
    const missingId = id + 1_000_000;
    const missing = await post(others[0] as TestAgent, `/${missingId}/claim`);
    expect(missing.status).toBe(404);
    const missingBody = ErrorBody.parse(await missing.json());

    // Owner and others interleaved, all fired before any answer.
    const claimers = agents.flatMap((a) => (a === owner ? [] : [owner, a])).concat(owner);
    expect(claimers.filter((a) => a === owner)).toHaveLength(10);
    // A gate in front of the store's claim holds every request until all 19 have reached
    // it, so they race at the guarded UPDATE itself, whatever the scheduling of the HTTP
    // requests before it. A response that arrives first went around the store's claim: it
    // opens the gate (so nothing hangs) and the arrival count below fails.
    let arrived = 0;
    const gate = Promise.withResolvers<void>();
    const transitions: number[] = [];
    const realStore = hub.deps.store;
    hub.deps.store = withClaim(realStore, async (claim, ...args) => {
      arrived += 1;
      if (arrived === claimers.length) gate.resolve();
      await gate.promise;
      const row = await claim(...args);
      if (row) transitions.push(args[1]);
      return row;
    });
    let responses: { agent: TestAgent; status: number; body: unknown }[];
    try {
      responses = await Promise.all(
        claimers.map(async (agent) => {
          const response = await post(agent, `/${id}/claim`);
          gate.resolve();
          return { agent, status: response.status, body: await response.json() };
        }),
      );
    } finally {
      hub.deps.store = realStore;
    }
    if (arrived !== claimers.length) {
      throw new Error(`${arrived} of ${claimers.length} claims reached store.jobs.claim`);
    }

    // The store let exactly one claim through, the owner's.
    expect(transitions).toEqual([owner.machineId]);
    expect((await claimAudits(admin)).filter((t) => t === `job:${id}`)).toHaveLength(1);
    const stored = await hub.deps.store.jobs.byId(id);
    expect(stored).toMatchObject({ status: "claimed", agentMachineId: owner.machineId });
    expect(stored?.claimedAt).toBe(hub.now());

    // Every owner's claim, the winner's and the nine retries, answers the same payload.
    const mine = responses.filter((r) => r.agent === owner);
    expect(mine.map((r) => r.status)).toEqual(Array(10).fill(200));
    const payloads = mine.map((r) => ClaimResponse.parse(r.body));
    for (const payload of payloads)
      expect(payload).toEqual(payloads[0] as (typeof payloads)[number]);
    expect(payloads[0]?.job.job_id).toBe(id);

    // Every other agent's answer is the one for a job that does not exist.
    const theirs = responses.filter((r) => r.agent !== owner);
    expect(new Set(theirs.map((r) => r.agent))).toEqual(new Set(others));
    for (const r of theirs) {
      expect(r.status).toBe(404);
      expect(ErrorBody.parse(r.body)).toEqual({
        ...missingBody,
        error: missingBody.error.replace(String(missingId), String(id)),
      });
    }
  });

  test("200 jobs, 8 workers of one agent: every job claimed exactly once", async () => {
    const admin = await hub.login();
    const agent = await addAgentMachine(hub);
    const repo = await createRepository(hub, admin, agent.machineId);
    const ids: number[] = [];
    for (let i = 0; i < 200; i++) ids.push(await queue(hub, admin, repo.id, "check"));
    const before = new Set(await claimAudits(admin));

    const claimedBy = new Map<number, number>();
    const worker = async (n: number) => {
      for (;;) {
        const response = await fetch(`${server.url}/api/agents/jobs/poll?limit=3`, {
          headers: { "x-borg-agent-authorization": `Bearer ${agent.token}` },
        });
        const { jobs } = PollResponse.parse(await response.json());
        if (jobs.length === 0) return;
        for (const job of jobs) {
          const claim = await post(agent, `/${job.id}/claim`);
          expect(claim.status).toBe(200);
          ClaimResponse.parse(await claim.json());
          claimedBy.set(job.id, n);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, n) => worker(n)));
    expect([...claimedBy.keys()].sort((x, y) => x - y)).toEqual(ids);
    // Transitions, counted by the audit trail: exactly one per job.
    const transitions = (await claimAudits(admin)).filter((t) => !before.has(t));
    expect(transitions).toHaveLength(200);
    expect(new Set(transitions).size).toBe(200);
    const stored = await Promise.all(ids.map((id) => hub.deps.store.jobs.byId(id)));
    expect(stored.every((j) => j?.status === "claimed" && j.claimedAt !== null)).toBe(true);
  });
});

describe("leases", () => {
  const hub = createTestHub();
  afterAll(() => hub.close());

  test("expired: claimed-never-started is requeued, running is failed, progress renews", async () => {
    const operator = await userWithRole(hub, "operator");
    const agent = await addAgentMachine(hub);
    const repo = await createRepository(hub, await hub.login(), agent.machineId, {
      passphrase: PASSPHRASE,
    });
    const call = runtime(hub, agent);

    const unstarted = await queue(hub, operator, repo.id, "check");
    const running = await queue(hub, operator, repo.id);
    const cancelUnstarted = await queue(hub, operator, repo.id, "check");
    const kept = await queue(hub, operator, repo.id, "check");
    for (const id of [unstarted, running, cancelUnstarted, kept]) {
      expect((await call("POST", `/${id}/claim`)).status).toBe(200);
    }
    await call("POST", `/${running}/start`);
    await call("POST", `/${kept}/start`);
    await hub.request("POST", `/api/jobs/${cancelUnstarted}/cancel`, { token: operator });

    hub.tick(4 * 60_000);
    expect(await sweepExpiredLeases(hub.deps)).toEqual({ requeued: [], canceled: [], failed: [] });
    expect((await call("POST", `/${kept}/progress`, { nfiles: 1 })).status).toBe(200);
    hub.tick(60_000 + 1000);
    const swept = await sweepExpiredLeases(hub.deps);
    expect(swept).toEqual({
      requeued: [unstarted],
      canceled: [cancelUnstarted],
      failed: [running],
    });

    const requeued = await jobOf(hub, operator, unstarted);
    expect(requeued).toMatchObject({ status: "queued", claimed_at: null });
    const lost = await jobOf(hub, operator, running);
    expect(lost).toMatchObject({
      status: "failed",
      error_message: "agent lost: no heartbeat or upload for 5 minutes",
    });
    expect((await jobOf(hub, operator, cancelUnstarted)).status).toBe("canceled");
    expect((await jobOf(hub, operator, kept)).status).toBe("running");
    const repoAfter = Repository.parse(
      (await hub.request("GET", `/api/repositories/${repo.id}`, { token: operator })).body,
    );
    expect(repoAfter).toMatchObject({ last_result: "failed", last_job_id: running });

    // The lost agent comes back: its uploads are refused with lease_lost.
    for (const [path, body] of [
      ["/progress", { nfiles: 2 }],
      ["/logs", { sequence: 0, stream: "stderr", message: "late", created_at: at() }],
      ["/complete", { result: { return_code: 0 } }],
    ] as const) {
      const late = await call("POST", `/${running}${path}`, body);
      expect(late.status).toBe(409);
      expect(codeOf(late.body)).toBe("lease_lost");
    }
    // The requeued job: a start without a new claim is lease_lost; it can be claimed again.
    const staleStart = await call("POST", `/${unstarted}/start`);
    expect(staleStart.status).toBe(409);
    expect(codeOf(staleStart.body)).toBe("lease_lost");
    expect(
      PollResponse.parse((await call("GET", "/poll?limit=10")).body).jobs.map((j) => j.id),
    ).toEqual([unstarted]);
    const reclaimed = ClaimResponse.parse((await call("POST", `/${unstarted}/claim`)).body);
    expect(reclaimed.job.secrets.passphrase).toBe(PASSPHRASE);

    const audit = await hub.request("GET", "/api/audit?limit=1000", { token: await hub.login() });
    const actions = (audit.body as { action: string }[]).map((e) => e.action);
    expect(actions).toContain("job.requeue");
    expect(actions).toContain("job.lease_expired");
  });
});

describe("restart", () => {
  test("a file-backed hub reopened keeps jobs, leases and logs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "borgctl-jobs-"));
    const path = join(dir, "hub.sqlite");
    try {
      const first = createTestHub({ path });
      const admin = await first.login();
      const agent = await addAgentMachine(first);
      const repo = await createRepository(first, admin, agent.machineId, {
        passphrase: PASSPHRASE,
      });
      const id = await queue(first, admin, repo.id);
      const waiting = await queue(first, admin, repo.id, "check");
      const call = runtime(first, agent);
      await call("POST", `/${id}/claim`);
      await call("POST", `/${id}/start`);
      await call("POST", `/${id}/logs`, {
        entries: [0, 1, 2].map((sequence) => ({
          sequence,
          stream: "stderr",
          message: `line ${sequence}`,
          created_at: at(),
        })),
      });
      const lease = (await first.deps.store.jobs.byId(id))?.leaseExpiresAt;
      expect(lease).toBeNumber();
      first.close();

      const second = createTestHub({ path });
      try {
        const again = await second.login();
        const job = await jobOf(second, again, id);
        expect(job.status).toBe("running");
        expect((await second.deps.store.jobs.byId(id))?.leaseExpiresAt).toBe(lease as number);
        const logs = JobLogsResponse.parse(
          (await second.request("GET", `/api/jobs/${id}/logs`, { token: again })).body,
        );
        expect(logs.logs.map((l) => l.message)).toEqual(["line 0", "line 1", "line 2"]);
        const call2 = runtime(second, agent);
        expect(
          PollResponse.parse((await call2("GET", "/poll")).body).jobs.map((j) => j.id),
        ).toEqual([waiting]);
        // The reopened hub still decrypts the passphrase for a (retried) claim.
        const claim = ClaimResponse.parse((await call2("POST", `/${id}/claim`)).body);
        expect(claim.job.secrets.passphrase).toBe(PASSPHRASE);
        const complete = await call2("POST", `/${id}/complete`, { result: { return_code: 0 } });
        expect(UploadResponse.parse(complete.body).status).toBe("completed");
      } finally {
        second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
