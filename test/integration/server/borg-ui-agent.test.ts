/**
 * Borg UI's own agent (`borg-ui-agent` 0.1.3, agent/borg_ui_agent/ of the public
 * karanhudia/borg-ui repository) against this hub, through its `register`, `once` and
 * `unregister` paths: each request below is the exact one it sends (method, path,
 * headers, body fields, as its client.py builds them and its runtime.py, backup.py and
 * repository_ops.py call them), and each answer is checked for what it reads from it.
 * The translation is src/server/http/borg-ui-agent.ts. Fixtures, not its code: the
 * field lists are cited from its files.
 *
 * Its `once` (runtime.py AgentRuntime.run_once): heartbeat → GET /jobs/poll?limit=1 →
 * POST /jobs/{id}/claim (no body) → POST /jobs/{id}/start {} → the kind's handler, run on
 * the POLLED job's payload: logs one entry at a time (client.py send_log: sequence,
 * stream, message — no created_at), progress, then complete {result} | fail
 * {error_message, return_code} | cancel {} after a heartbeat answered cancel_job_ids.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  DEFAULT_ARCHIVE_NAME,
  Job,
  JobAccepted,
  Machine,
} from "../../../src/shared/protocol/api.ts";
import { createTestHub, type TestResponse } from "../../helpers/hub.ts";
import { createRepository } from "../../helpers/hub-fixtures.ts";

const PASSPHRASE = "borg ui agent passphrase 1234";

// runtime.py DEFAULT_CAPABILITIES (0.1.3), what its register and heartbeat report.
const BORG_UI_CAPABILITIES = [
  "session.commands",
  "jobs.poll",
  "jobs.claim",
  "jobs.report",
  "logs.stream",
  "artifact.upload",
  "backup.create",
  "backup.cancel",
  "diagnostics.run",
  "filesystem.browse",
  "repository.init",
  "repository.info",
  "repository.rinfo",
  "repository.archive_info",
  "repository.list_archives",
  "repository.delete_archive",
  "repository.break_lock",
  "repository.list_archive_contents",
  "repository.extract_archive_file",
  "repository.restore",
  "repository.check",
  "repository.prune",
  "repository.compact",
  "repository.rclone_sync",
  "agent.list_scripts",
  "script.run",
];

// borg.py BorgBinary.to_api_payload: major, version, path and install_source.
const BORG_VERSIONS = [
  { major: 1, version: "1.2.4", path: "/usr/bin/borg", install_source: "system-package" },
];

/** client.py AgentClient.register's body (cli.py _register fills it; --name is required). */
const registerBody = (enrollmentToken: string) => ({
  enrollment_token: enrollmentToken,
  name: "media-node",
  hostname: "media-node",
  os: "linux",
  arch: "x86_64",
  agent_version: "0.1.3",
  borg_versions: BORG_VERSIONS,
  capabilities: BORG_UI_CAPABILITIES,
  labels: {},
});

/** client.py AgentClient.heartbeat's body (runtime.py heartbeat; last_error always None). */
const heartbeatBody = (agentId: string, runningJobIds: number[] = []) => ({
  agent_id: agentId,
  hostname: "media-node",
  agent_version: "0.1.3",
  borg_versions: BORG_VERSIONS,
  capabilities: BORG_UI_CAPABILITIES,
  running_job_ids: runningJobIds,
  last_error: null,
});

const hub = createTestHub();
let admin: string;
let agentId: string;
let agentToken: string;
let machineId: number;
let repositoryId: number;
let location: string;

/** A request as its client.py _request sends it: JSON body or none, only its auth header. */
const send = (method: string, path: string, body?: unknown) =>
  hub.request(method, `/api/agents${path}`, { body, agentToken });

function ok(response: TestResponse, what: string): TestResponse {
  if (response.status < 200 || response.status >= 300) {
    throw new Error(`${what}: ${response.status} ${response.text}`);
  }
  return response;
}

async function queue(action: string): Promise<number> {
  const queued = await hub.request("POST", `/api/repositories/${repositoryId}/${action}`, {
    token: admin,
  });
  expect(queued.status).toBe(202);
  return JobAccepted.parse(queued.body).job_id;
}

const jobOf = async (id: number) =>
  Job.parse((await hub.request("GET", `/api/jobs/${id}`, { token: admin })).body);

interface PolledJob {
  id: number;
  type: string;
  created_at: string;
  payload: {
    job_kind: string;
    repository: { path: string; borg_version: number };
    operation?: Record<string, unknown>;
    backup?: Record<string, unknown>;
    secrets: { BORG_PASSPHRASE?: string };
  };
}

/** `once` up to its handler: heartbeat, poll, claim (no body), start {}. */
async function onceUpToHandler(): Promise<PolledJob> {
  ok(await send("POST", "/heartbeat", heartbeatBody(agentId)), "heartbeat");
  const poll = ok(await send("GET", "/jobs/poll?limit=1"), "poll");
  const [job] = (poll.body as { jobs: PolledJob[] }).jobs;
  if (!job) throw new Error("nothing polled");
  ok(await send("POST", `/jobs/${job.id}/claim`), "claim");
  ok(await send("POST", `/jobs/${job.id}/start`, {}), "start");
  return job;
}

beforeAll(async () => {
  admin = await hub.login();
  const created = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
    token: admin,
    body: { name: "borg ui", expires_in_minutes: 60 },
  });
  const registered = ok(
    await hub.request("POST", "/api/agents/register", {
      body: registerBody((created.body as { token: string }).token),
    }),
    "register",
  );
  // cli.py _register reads agent_id and agent_token, nothing else.
  ({ agent_id: agentId, agent_token: agentToken } = registered.body as {
    agent_id: string;
    agent_token: string;
  });
  const machines = Machine.array().parse(
    (await hub.request("GET", "/api/managed-machines", { token: admin })).body,
  );
  machineId = machines.find((m) => m.agent_id === agentId)?.id ?? 0;
  const repository = await createRepository(hub, admin, machineId, { passphrase: PASSPHRASE });
  repositoryId = repository.id;
  location = repository.location;
});
afterAll(() => hub.close());

describe("borg-ui-agent register", () => {
  test("its register body is accepted; the machine shows it runs a Borg UI agent", async () => {
    const machine = Machine.parse(
      (await hub.request("GET", `/api/managed-machines/${machineId}`, { token: admin })).body,
    );
    expect(machine).toMatchObject({
      name: "media-node",
      agent_version: "0.1.3",
      agent_dialect: "borg-ui",
      capabilities: BORG_UI_CAPABILITIES,
    });
  });

  test("its heartbeat (last_error null, install_source extra) is accepted", async () => {
    const answer = ok(await send("POST", "/heartbeat", heartbeatBody(agentId)), "heartbeat");
    // runtime.py's cancel checker reads cancel_job_ids.
    expect((answer.body as { cancel_job_ids: number[] }).cancel_job_ids).toEqual([]);
  });
});

describe("borg-ui-agent once", () => {
  test("init: the polled payload in its names (repository_ops.py), then complete", async () => {
    const id = await queue("init");
    const job = await onceUpToHandler();
    // runtime.py picks the handler by payload.job_kind, then job.type.
    expect(job).toMatchObject({ id, type: "repository.init" });
    // RepositoryOperationPayload.from_job_payload: repository.path, repository.borg_version,
    // operation.encryption (build_command), secrets.BORG_PASSPHRASE (_extract_environment).
    expect(job.payload).toMatchObject({
      job_kind: "repository.init",
      repository: { path: location, borg_version: 1 },
      operation: { encryption: "repokey-blake2" },
      secrets: { BORG_PASSPHRASE: PASSPHRASE },
    });
    // Never anything it would turn into borg flags of its own.
    expect(JSON.stringify(job.payload)).not.toMatch(/custom_flags|remote_path|borg_binary/);

    // _execute_streaming_repository_operation: one log per line, then this result.
    ok(
      await send("POST", `/jobs/${id}/logs`, {
        sequence: 0,
        stream: "stdout",
        message: `Starting repository.init: borg init --encryption repokey-blake2 ${location}`,
      }),
      "logs",
    );
    ok(
      await send("POST", `/jobs/${id}/complete`, {
        result: { return_code: 0, command: ["borg", "init"], status: "completed" },
      }),
      "complete",
    );
    expect((await jobOf(id)).status).toBe("completed");
  });

  test("backup: its backup block, a whole-stdout log entry, a result without stats", async () => {
    const id = await queue("backup");
    const job = await onceUpToHandler();
    expect(job.type).toBe("backup.create");
    // backup.py BackupCreatePayload.from_job_payload reads these four under `backup`.
    expect(job.payload.backup).toEqual({
      archive_name: DEFAULT_ARCHIVE_NAME,
      source_paths: ["/home", "/etc"],
      exclude_patterns: ["*.tmp"],
      compression: "lz4",
    });
    expect(job.payload.secrets.BORG_PASSPHRASE).toBe(PASSPHRASE);

    // execute_backup_create_job: a log and, for archive_progress lines, a progress report.
    ok(
      await send("POST", `/jobs/${id}/logs`, {
        sequence: 1,
        stream: "stderr",
        message: '{"type": "archive_progress", "original_size": 10, "nfiles": 1}',
      }),
      "logs",
    );
    ok(
      await send("POST", `/jobs/${id}/progress`, {
        original_size: 10,
        nfiles: 1,
        current_file: "/home/a",
      }),
      "progress",
    );
    // A log entry far over the protocol's cap (it sends whole outputs as one): cut, kept.
    const long = "x".repeat(100_000);
    ok(
      await send("POST", `/jobs/${id}/logs`, { sequence: 2, stream: "stdout", message: long }),
      "long log",
    );
    // Its result: archive_name, return_code and the command; no stats.
    ok(
      await send("POST", `/jobs/${id}/complete`, {
        result: {
          archive_name: "media-node-2026-12-02T01:00:00",
          return_code: 0,
          command: ["borg", "create", "--json"],
        },
      }),
      "complete",
    );
    const done = await jobOf(id);
    expect(done.status).toBe("completed");
    expect(done.result).toMatchObject({ archive_name: "media-node-2026-12-02T01:00:00" });
    const logs = (await hub.request("GET", `/api/jobs/${id}/logs`, { token: admin })).body as {
      logs: { sequence: number; message: string }[];
    };
    const cut = logs.logs.find((l) => l.sequence === 2)?.message ?? "";
    expect(cut.length).toBeLessThanOrEqual(16 * 1024);
    expect(cut).toStartWith("xxxx");
    expect(cut).toMatch(/cut by the hub: [0-9]+ more characters\]$/);
  });

  test("list: its result under result.data becomes the repository's archive list", async () => {
    const id = await queue("list");
    const job = await onceUpToHandler();
    expect(job.type).toBe("repository.list_archives");
    // _execute_short_repository_operation: stdout and stderr as one entry each, then the
    // result with borg list --json's document under `data`.
    const listing = {
      archives: [
        {
          archive: "media-node-1",
          barchive: "media-node-1",
          id: "a".repeat(64),
          name: "media-node-1",
          start: "2026-12-01T01:00:00.000000",
          time: "2026-12-01T01:00:00.000000",
        },
      ],
      encryption: { mode: "repokey-blake2" },
      repository: { id: "b".repeat(64), last_modified: "2026-12-01T01:00:01.000000" },
    };
    const stdout = JSON.stringify(listing, null, 4);
    ok(
      await send("POST", `/jobs/${id}/logs`, { sequence: 1, stream: "stdout", message: stdout }),
      "logs",
    );
    ok(
      await send("POST", `/jobs/${id}/complete`, {
        result: { return_code: 0, command: ["borg", "list"], stdout, stderr: "", data: listing },
      }),
      "complete",
    );
    expect((await jobOf(id)).status).toBe("completed");
    const archives = (
      await hub.request("GET", `/api/repositories/${repositoryId}/archives`, { token: admin })
    ).body as { archives: { name: string }[] };
    expect(archives.archives.map((a) => a.name)).toEqual(["media-node-1"]);
  });

  test("cancel: the heartbeat says so, it reports POST /jobs/{id}/cancel {}", async () => {
    const id = await queue("backup");
    await onceUpToHandler();
    expect((await hub.request("POST", `/api/jobs/${id}/cancel`, { token: admin })).status).toBe(
      202,
    );
    // runtime.py _build_cancel_checker: a heartbeat with the running job, cancel_job_ids.
    const beat = ok(await send("POST", "/heartbeat", heartbeatBody(agentId, [id])), "heartbeat");
    expect((beat.body as { cancel_job_ids: number[] }).cancel_job_ids).toContain(id);
    ok(await send("POST", `/jobs/${id}/cancel`, {}), "cancel");
    expect((await jobOf(id)).status).toBe("canceled");
  });

  test("fail: error_message and a null return_code", async () => {
    const id = await queue("backup");
    await onceUpToHandler();
    ok(
      await send("POST", `/jobs/${id}/fail`, {
        error_message: "borg create exited with code 2",
        return_code: null,
      }),
      "fail",
    );
    expect(await jobOf(id)).toMatchObject({
      status: "failed",
      error_message: "borg create exited with code 2",
    });
  });

  test("a spec agent's poll still carries only a reference, never the passphrase", async () => {
    const created = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
      token: admin,
      body: { name: "spec", expires_in_minutes: 60 },
    });
    const spec = ok(
      await hub.request("POST", "/api/agents/register", {
        body: {
          ...registerBody((created.body as { token: string }).token),
          name: "spec-node",
          capabilities: ["backup.create", "backup.cancel", "logs.stream"],
        },
      }),
      "register",
    ).body as { agent_id: string; agent_token: string };
    const machines = Machine.array().parse(
      (await hub.request("GET", "/api/managed-machines", { token: admin })).body,
    );
    const machine = machines.find((m) => m.agent_id === spec.agent_id);
    expect(machine?.agent_dialect).toBe("spec");
    const repo = await createRepository(hub, admin, machine?.id ?? 0, { passphrase: PASSPHRASE });
    await hub.request("POST", `/api/repositories/${repo.id}/backup`, { token: admin });
    const poll = await hub.request("GET", "/api/agents/jobs/poll?limit=1", {
      agentToken: spec.agent_token,
    });
    expect(poll.text).not.toContain(PASSPHRASE);
    expect(poll.text).toContain('"secret_ref":"repository-passphrase"');
  });
});

describe("borg-ui-agent unregister", () => {
  test("POST /unregister {}: the credential is revoked", async () => {
    const answer = await send("POST", "/unregister", {});
    expect(answer.status).toBe(204);
    // cli.py _unregister reads no body; an empty answer is `{}` to its client.
    expect(answer.text).toBe("");
    const machine = Machine.parse(
      (await hub.request("GET", `/api/managed-machines/${machineId}`, { token: admin })).body,
    );
    expect(machine.status).toBe("revoked");
    expect((await send("POST", "/heartbeat", heartbeatBody(agentId))).status).toBe(401);
  });
});
