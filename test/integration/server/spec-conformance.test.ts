/**
 * The hub speaks the Managed Agent Spec (../shared/seeds/managed-agent-spec.txt) as
 * written, to any client that follows it, not only to borgctl's own agent: its example
 * request bodies are replayed here as raw JSON text, verbatim but for the placeholders
 * (`borgui_enroll_...`, `agt_...`) and job ids, which a real agent fills in from earlier
 * answers. No borgctl client, no X-Borg-Agent-Protocol header, no protocol_version.
 *
 * Then the other side of the same rule: a newer agent that adds a field everywhere (every
 * body, nested objects, the poll query) is accepted, its extra fields ignored; and labels
 * an agent reports are stored, an admin's label winning on a conflict.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Job, JobAccepted, JobLogsResponse, Machine } from "../../../src/shared/protocol/api.ts";
import { createTestHub, type TestResponse } from "../../helpers/hub.ts";
import { createRepository } from "../../helpers/hub-fixtures.ts";

const PASSPHRASE = "spec conformance passphrase 1234";

// --- the spec's examples, as text ------------------------------------------------------

const REGISTER = `{
  "enrollment_token": "borgui_enroll_...",
  "name": "karan-macbook",
  "hostname": "karan-macbook.local",
  "os": "darwin",
  "arch": "arm64",
  "agent_version": "0.1.0",
  "borg_versions": [
    { "major": 1, "version": "1.2.8", "path": "/opt/homebrew/bin/borg" }
  ],
  "capabilities": ["backup.create", "backup.cancel", "logs.stream"]
}`;

const HEARTBEAT = `{
  "agent_id": "agt_...",
  "hostname": "karan-macbook.local",
  "agent_version": "0.1.0",
  "borg_versions": [
    { "major": 1, "version": "1.2.8", "path": "/opt/homebrew/bin/borg" }
  ],
  "capabilities": ["backup.create", "backup.cancel", "logs.stream"],
  "running_job_ids": [12]
}`;

const START = `{
  "started_at": "2026-05-11T12:00:01Z"
}`;

const PROGRESS = `{
  "progress_percent": 42.5,
  "current_file": "/Users/karan/Documents/report.pdf",
  "original_size": 104857600,
  "compressed_size": 52428800,
  "deduplicated_size": 1048576,
  "nfiles": 184,
  "backup_speed": 8388608,
  "estimated_time_remaining": 60
}`;

const LOGS = `{
  "sequence": 18,
  "stream": "stderr",
  "message": "Creating archive at ...",
  "created_at": "2026-05-11T12:00:02Z"
}`;

const COMPLETE = `{
  "completed_at": "2026-05-11T12:05:00Z",
  "result": {
    "archive_name": "laptop-2026-05-11T12:00:00",
    "return_code": 0,
    "stats": {
      "original_size": 104857600,
      "compressed_size": 52428800,
      "deduplicated_size": 1048576,
      "nfiles": 184
    }
  }
}`;

const FAIL = `{
  "completed_at": "2026-05-11T12:01:00Z",
  "error_message": "borg create exited with code 2",
  "return_code": 2
}`;

// The spec gives the cancel report no body; an empty object is what a client sends.
const CANCEL = "{}";

// --- helpers ---------------------------------------------------------------------------

const hub = createTestHub();
let admin: string;
afterAll(() => hub.close());
beforeAll(async () => {
  admin = await hub.login();
});

/** A raw JSON text request, as a client in any language would send it. */
const raw = (method: string, path: string, body?: string, agentToken?: string) =>
  hub.request(method, `/api/agents${path}`, { body, agentToken });

function ok(response: TestResponse, what: string): TestResponse {
  if (response.status < 200 || response.status >= 300) {
    throw new Error(`${what}: ${response.status} ${response.text}`);
  }
  return response;
}

async function enrollmentToken(): Promise<string> {
  const created = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
    token: admin,
    body: { name: "spec", expires_in_minutes: 60 },
  });
  return (created.body as { token: string }).token;
}

interface Registered {
  agentId: string;
  token: string;
  machineId: number;
}

async function register(body: string): Promise<Registered> {
  const token = await enrollmentToken();
  const answer = ok(
    await raw("POST", "/register", body.replace("borgui_enroll_...", token)),
    "register",
  );
  const { agent_id, agent_token } = answer.body as { agent_id: string; agent_token: string };
  const machines = Machine.array().parse(
    (await hub.request("GET", "/api/managed-machines", { token: admin })).body,
  );
  const machine = machines.find((m) => m.agent_id === agent_id);
  if (!machine) throw new Error("the registered machine is not listed");
  return { agentId: agent_id, token: agent_token, machineId: machine.id };
}

async function queueBackup(repositoryId: number): Promise<number> {
  const queued = await hub.request("POST", `/api/repositories/${repositoryId}/backup`, {
    token: admin,
  });
  expect(queued.status).toBe(202);
  return JobAccepted.parse(queued.body).job_id;
}

async function jobOf(id: number) {
  return Job.parse((await hub.request("GET", `/api/jobs/${id}`, { token: admin })).body);
}

// --- the spec's examples, verbatim -----------------------------------------------------

describe("the spec's example requests, verbatim", () => {
  let agent: Registered;
  let repositoryId: number;
  const call = (method: string, path: string, body?: string) =>
    raw(method, path, body, agent.token);

  beforeAll(async () => {
    agent = await register(REGISTER);
    ok(await call("POST", "/heartbeat", HEARTBEAT.replace("agt_...", agent.agentId)), "heartbeat");
    repositoryId = (await createRepository(hub, admin, agent.machineId, { passphrase: PASSPHRASE }))
      .id;
  });

  test("register and heartbeat as the spec shows them; the machine is online with the facts", async () => {
    const machine = Machine.parse(
      (await hub.request("GET", `/api/managed-machines/${agent.machineId}`, { token: admin })).body,
    );
    expect(machine).toMatchObject({
      name: "karan-macbook",
      hostname: "karan-macbook.local",
      os: "darwin",
      arch: "arm64",
      agent_version: "0.1.0",
      status: "online",
      capabilities: ["backup.create", "backup.cancel", "logs.stream"],
    });
  });

  test("poll answers id, type, created_at and a versioned payload with a secret reference", async () => {
    const id = await queueBackup(repositoryId);
    const poll = ok(await call("GET", "/jobs/poll?limit=1"), "poll");
    expect(poll.text).not.toContain(PASSPHRASE);
    const [job] = (poll.body as { jobs: Record<string, unknown>[] }).jobs;
    expect(job).toMatchObject({
      id,
      type: "backup.create",
      // Kept for borgctl agents that read only these.
      job_kind: "backup.create",
      repository_id: repositoryId,
      payload: {
        schema_version: 1,
        job_kind: "backup.create",
        repository: { id: repositoryId },
        backup: { source_paths: ["/home", "/etc"] },
        secrets: {
          passphrase_location: "hub",
          passphrase: { secret_ref: "repository-passphrase" },
        },
      },
    });
    expect(Number.isNaN(Date.parse(job?.created_at as string))).toBe(false);

    // The claim is where the passphrase comes, to this agent only; claiming again is the same.
    const claim = ok(await call("POST", `/jobs/${id}/claim`), "claim");
    expect(claim.body).toMatchObject({
      status: "claimed",
      job: { secrets: { passphrase: PASSPHRASE } },
    });
    expect(ok(await call("POST", `/jobs/${id}/claim`), "claim again").body).toEqual(claim.body);
    ok(await call("POST", `/jobs/${id}/complete`, COMPLETE), "complete");
  });

  test("start, progress, logs (with and without created_at, duplicates), complete", async () => {
    const id = await queueBackup(repositoryId);
    ok(await call("POST", `/jobs/${id}/claim`), "claim");
    ok(await call("POST", `/jobs/${id}/start`, START), "start");
    ok(await call("POST", `/jobs/${id}/progress`, PROGRESS), "progress");
    const logs = ok(await call("POST", `/jobs/${id}/logs`, LOGS), "logs");
    expect(logs.body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(ok(await call("POST", `/jobs/${id}/logs`, LOGS), "logs again").body).toMatchObject({
      accepted: 0,
      duplicates: 1,
    });
    // No created_at: the hub's time.
    const untimed = JSON.stringify({ sequence: 19, stream: "stdout", message: "no time" });
    ok(await call("POST", `/jobs/${id}/logs`, untimed), "logs without created_at");
    ok(await call("POST", `/jobs/${id}/complete`, COMPLETE), "complete");

    const job = await jobOf(id);
    expect(job.status).toBe("completed");
    expect(job.return_code).toBe(0);
    const stored = JobLogsResponse.parse(
      (await hub.request("GET", `/api/jobs/${id}/logs`, { token: admin })).body,
    ).logs;
    expect(stored.map((l) => [l.sequence, l.message, l.created_at])).toEqual([
      [18, "Creating archive at ...", "2026-05-11T12:00:02.000Z"],
      [19, "no time", new Date(hub.now()).toISOString()],
    ]);
    // Terminal: a repeated report is 409.
    expect((await call("POST", `/jobs/${id}/complete`, COMPLETE)).status).toBe(409);
  });

  test("fail as the spec shows it", async () => {
    const id = await queueBackup(repositoryId);
    ok(await call("POST", `/jobs/${id}/claim`), "claim");
    ok(await call("POST", `/jobs/${id}/start`, START), "start");
    ok(await call("POST", `/jobs/${id}/fail`, FAIL), "fail");
    expect(await jobOf(id)).toMatchObject({
      status: "failed",
      error_message: "borg create exited with code 2",
      return_code: 2,
    });
  });

  for (const path of ["cancel", "canceled"]) {
    test(`the cancel report under /jobs/{id}/${path}`, async () => {
      const id = await queueBackup(repositoryId);
      ok(await call("POST", `/jobs/${id}/claim`), "claim");
      ok(await call("POST", `/jobs/${id}/start`, START), "start");
      expect((await hub.request("POST", `/api/jobs/${id}/cancel`, { token: admin })).status).toBe(
        202,
      );
      const beat = ok(
        await call("POST", "/heartbeat", HEARTBEAT.replace("agt_...", agent.agentId)),
        "heartbeat",
      );
      expect((beat.body as { cancel_job_ids: number[] }).cancel_job_ids).toContain(id);
      ok(await call("POST", `/jobs/${id}/${path}`, CANCEL), path);
      expect((await jobOf(id)).status).toBe("canceled");
    });
  }

  test("unregister", async () => {
    expect((await call("POST", "/unregister", "{}")).status).toBe(204);
    expect((await call("GET", "/jobs/poll?limit=1")).status).toBe(401);
  });
});

// --- a newer agent ---------------------------------------------------------------------

/** Adds an unknown field to an example body (and to its nested objects where it has some). */
function withExtra(text: string, nested?: (body: Record<string, unknown>) => void): string {
  const body = JSON.parse(text) as Record<string, unknown>;
  body.added_in_a_later_version = { anything: [1, "two"] };
  nested?.(body);
  return JSON.stringify(body);
}

describe("a newer agent that adds fields everywhere", () => {
  test("every call is accepted, the extra fields ignored", async () => {
    const agent = await register(
      withExtra(REGISTER, (b) => {
        (b.borg_versions as Record<string, unknown>[])[0] = {
          ...(b.borg_versions as Record<string, unknown>[])[0],
          build: "homebrew",
        };
        b.protocol_version = 1;
      }),
    );
    const call = (method: string, path: string, body?: string) =>
      raw(method, path, body, agent.token);
    ok(
      await call(
        "POST",
        "/heartbeat",
        withExtra(HEARTBEAT.replace("agt_...", agent.agentId), (b) => {
          (b.borg_versions as Record<string, unknown>[]).push({
            major: 2,
            version: "2.0.0b14",
            path: "/usr/bin/borg2",
            build: "pip",
          });
        }),
      ),
      "heartbeat",
    );
    const { id: repositoryId } = await createRepository(hub, admin, agent.machineId);
    const id = await queueBackup(repositoryId);
    const poll = ok(await call("GET", "/jobs/poll?limit=1&since_cursor=abc"), "poll");
    expect((poll.body as { jobs: { id: number }[] }).jobs.map((j) => j.id)).toEqual([id]);
    ok(await call("POST", `/jobs/${id}/claim`, withExtra("{}")), "claim");
    ok(await call("POST", `/jobs/${id}/start`, withExtra(START)), "start");
    ok(await call("POST", `/jobs/${id}/progress`, withExtra(PROGRESS)), "progress");
    ok(await call("POST", `/jobs/${id}/logs`, withExtra(LOGS)), "logs");
    const batch = JSON.stringify({
      entries: [JSON.parse(withExtra(LOGS, (b) => (b.sequence = 20)))],
      compressed: false,
    });
    ok(await call("POST", `/jobs/${id}/logs`, batch), "log batch");
    ok(
      await call(
        "POST",
        `/jobs/${id}/complete`,
        withExtra(COMPLETE, (b) => {
          const result = b.result as Record<string, unknown>;
          result.duration_seconds = 12;
          (result.stats as Record<string, unknown>).nchunks = 9;
        }),
      ),
      "complete",
    );
    const job = await jobOf(id);
    expect(job.status).toBe("completed");
    expect(JSON.stringify(job)).not.toContain("added_in_a_later_version");

    for (const [report, body] of [
      ["fail", withExtra(FAIL)],
      ["cancel", withExtra(CANCEL)],
      ["canceled", withExtra(CANCEL)],
    ] as const) {
      const next = await queueBackup(repositoryId);
      ok(await call("POST", `/jobs/${next}/claim`), "claim");
      ok(await call("POST", `/jobs/${next}/${report}`, body), report);
    }
  });
});

// --- labels ------------------------------------------------------------------------------

describe("labels an agent reports", () => {
  test("are stored at register and heartbeat; an admin's label wins on a conflict", async () => {
    const agent = await register(
      withExtra(REGISTER, (b) => {
        b.labels = { site: "home", os_family: "darwin" };
      }),
    );
    const labels = async () =>
      Machine.parse(
        (await hub.request("GET", `/api/managed-machines/${agent.machineId}`, { token: admin }))
          .body,
      ).labels;
    expect(await labels()).toEqual({ site: "home", os_family: "darwin" });

    const patched = await hub.request("PATCH", `/api/managed-machines/${agent.machineId}`, {
      token: admin,
      body: { labels: { site: "office", owner: "ops" } },
    });
    expect(patched.status).toBe(200);
    const heartbeat = (reported: Record<string, string>) =>
      raw(
        "POST",
        "/heartbeat",
        JSON.stringify({ agent_id: agent.agentId, labels: reported }),
        agent.token,
      );
    ok(await heartbeat({ site: "home", rack: "r3" }), "heartbeat");
    // site: the admin's; rack: new, added; os_family: removed by the admin, not reported again.
    expect(await labels()).toEqual({ site: "office", owner: "ops", rack: "r3" });

    // A label the hub could not store (an admin could not set it either) is a 400 naming it.
    const bad = await heartbeat({ "Bad Key": "x" });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("labels");
  });
});
