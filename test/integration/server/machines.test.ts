import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AuditEvent, Machine } from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { expectError, expectOk, FakeAgent, newEnrollmentToken } from "../../helpers/fake-agent.ts";
import { createTestHub, RAW_JOB_PAYLOAD } from "../../helpers/hub.ts";

const hub = createTestHub();
let server: { url: string; stop(): void };
let admin: string;
let viewer: string;
const issued: string[] = [];

async function enroll(name?: string): Promise<{ agent: FakeAgent; id: number }> {
  const enrollment = await newEnrollmentToken(hub, admin);
  const agent = await FakeAgent.enroll(server.url, enrollment, name ? { name } : {});
  issued.push(enrollment, agent.token);
  const machine = Machine.array()
    .parse((await hub.request("GET", "/api/managed-machines", { token: admin })).body)
    .find((m) => m.agent_id === agent.agentId);
  if (!machine) throw new Error("registered machine not listed");
  return { agent, id: machine.id };
}

async function getMachine(id: number) {
  const response = await hub.request("GET", `/api/managed-machines/${id}`, { token: viewer });
  expect(response.status).toBe(200);
  return Machine.parse(response.body);
}

async function action(id: number, name: string, token = admin) {
  const response = await hub.request("POST", `/api/managed-machines/${id}/${name}`, { token });
  return {
    status: response.status,
    machine: response.status === 200 ? Machine.parse(response.body) : undefined,
    error: response.status === 200 ? undefined : ErrorBody.parse(response.body),
  };
}

async function insertJob(machineId: number, status: string): Promise<number> {
  const [row] = await hub.sql<{ id: number }>(
    `INSERT INTO jobs (agent_machine_id, job_kind, status, payload, triggered_by)
     VALUES (?, 'backup.create', ?, ?, 'test') RETURNING id`,
    [machineId, status, JSON.parse(RAW_JOB_PAYLOAD)],
  );
  return row?.id ?? 0;
}

const jobRow = async (id: number) =>
  (
    await hub.sql<{ status: string; error_message: string | null; completed_at: number | null }>(
      "SELECT status, error_message, completed_at FROM jobs WHERE id = ?",
      [id],
    )
  )[0];

async function auditActions(target: string) {
  const events = AuditEvent.array().parse(
    (await hub.request("GET", "/api/audit?limit=1000", { token: admin })).body,
  );
  return events
    .filter((e) => e.target === target)
    .map((e) => e.action)
    .reverse();
}

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  const created = await hub.request("POST", "/api/users", {
    token: admin,
    body: { username: "vera", password: "viewer-password-1", role: "viewer" },
  });
  if (created.status !== 201) throw new Error(created.text);
  viewer = await hub.login("vera", "viewer-password-1");
  issued.push(admin, viewer);
});
afterAll(() => {
  server.stop();
  hub.close();
});

describe("reading machines", () => {
  test("viewers list and read machines; no credential material is shown", async () => {
    const { agent, id } = await enroll("web-1");
    const list = await hub.request("GET", "/api/managed-machines", { token: viewer });
    expect(list.status).toBe(200);
    const machines = Machine.array().parse(list.body);
    expect(machines.map((m) => m.name)).toContain("web-1");
    const one = await getMachine(id);
    expect(one).toMatchObject({
      id,
      name: "web-1",
      agent_id: agent.agentId,
      os: "linux",
      arch: "x64",
      capabilities: ["backup.create", "backup.cancel", "logs.stream"],
      labels: {},
      status: "pending",
    });
    expect(list.text).not.toContain("token");
    expect(list.text).not.toContain(agent.token.slice(0, 20));
  });

  test("unknown and malformed ids are 404", async () => {
    for (const path of ["/api/managed-machines/9999", "/api/managed-machines/abc"]) {
      const response = await hub.request("GET", path, { token: viewer });
      expect(response.status).toBe(404);
      expect(ErrorBody.parse(response.body).code).toBe("not_found");
    }
    expect((await action(9999, "disable")).status).toBe(404);
    expect(
      (await hub.request("DELETE", "/api/managed-machines/9999", { token: admin })).status,
    ).toBe(404);
  });
});

describe("managing machines", () => {
  test("PATCH renames and labels (admin only, validated)", async () => {
    const { id } = await enroll();
    const patched = await hub.request("PATCH", `/api/managed-machines/${id}`, {
      token: admin,
      body: { name: "db primary", labels: { env: "prod", "team/owner": "ops" } },
    });
    expect(patched.status).toBe(200);
    expect(Machine.parse(patched.body)).toMatchObject({
      name: "db primary",
      labels: { env: "prod", "team/owner": "ops" },
    });
    const nameOnly = await hub.request("PATCH", `/api/managed-machines/${id}`, {
      token: admin,
      body: { name: "db-1" },
    });
    expect(Machine.parse(nameOnly.body).labels).toEqual({ env: "prod", "team/owner": "ops" });

    const byViewer = await hub.request("PATCH", `/api/managed-machines/${id}`, {
      token: viewer,
      body: { name: "mine" },
    });
    expect(byViewer.status).toBe(403);
    for (const body of [{ labels: { "Bad Key": "x" } }, { status: "online" }, { name: "" }]) {
      const bad = await hub.request("PATCH", `/api/managed-machines/${id}`, { token: admin, body });
      expect(bad.status).toBe(400);
      expect(ErrorBody.parse(bad.body).code).toBe("validation_failed");
    }
    expect((await getMachine(id)).name).toBe("db-1");
    expect(await auditActions(`machine:${id}`)).toEqual([
      "agent.register",
      "agent.update",
      "agent.update",
    ]);
  });

  test("disable refuses the credential at once; enable makes it offline, then a heartbeat brings it online", async () => {
    const { agent, id } = await enroll();
    expectOk(await agent.heartbeat());
    const queued = await insertJob(id, "queued");
    expect(expectOk(await agent.poll()).jobs.map((j) => j.id)).toEqual([queued]);

    const disabled = await action(id, "disable");
    expect(disabled.status).toBe(200);
    expect(disabled.machine?.status).toBe("disabled");
    const refused = await agent.heartbeat();
    expect(refused.status).toBe(401);
    expect(expectError(refused).code).toBe("unauthorized");
    expect((await agent.poll()).status).toBe(401);
    // Disabling is reversible: queued work waits.
    expect((await jobRow(queued))?.status).toBe("queued");
    // Disabling twice is a no-op.
    expect((await action(id, "disable")).machine?.status).toBe("disabled");

    const enabled = await action(id, "enable");
    expect(enabled.status).toBe(200);
    expect(enabled.machine?.status).toBe("offline");
    expectOk(await agent.heartbeat());
    expect((await getMachine(id)).status).toBe("online");
    // Enabling an active machine changes nothing.
    expect((await action(id, "enable")).machine?.status).toBe("online");

    expect(await auditActions(`machine:${id}`)).toEqual([
      "agent.register",
      "agent.status",
      "agent.disable",
      "agent.enable",
      "agent.status",
    ]);
  });

  test("revoke is permanent: 401 everywhere, enable and disable 409, queued jobs canceled", async () => {
    const { agent, id } = await enroll();
    expectOk(await agent.heartbeat());
    const queued = await insertJob(id, "queued");
    const running = await insertJob(id, "running");

    const revoked = await action(id, "revoke");
    expect(revoked.status).toBe(200);
    expect(revoked.machine?.status).toBe("revoked");

    expect(await jobRow(queued)).toEqual({
      status: "canceled",
      error_message: "agent revoked",
      completed_at: hub.now(),
    });
    // Running jobs are the job lifecycle's business (their lease can no longer be renewed).
    expect((await jobRow(running))?.status).toBe("running");

    expect((await agent.heartbeat()).status).toBe(401);
    expect((await agent.unregister()).status).toBe(401);
    expect((await agent.poll()).status).toBe(401);

    const enable = await action(id, "enable");
    expect(enable.status).toBe(409);
    expect(enable.error?.code).toBe("conflict");
    expect(enable.error?.error).toContain("new enrollment token");
    expect((await action(id, "disable")).status).toBe(409);
    expect((await action(id, "revoke")).machine?.status).toBe("revoked");
    expect((await getMachine(id)).status).toBe("revoked");

    const audit = AuditEvent.array().parse(
      (await hub.request("GET", "/api/audit?action=agent.revoke", { token: admin })).body,
    );
    const event = audit.find((e) => e.target === `machine:${id}`);
    expect(event?.details).toMatchObject({
      from: "online",
      to: "revoked",
      canceled_job_ids: [queued],
    });
    expect(audit.filter((e) => e.target === `machine:${id}`)).toHaveLength(1);
  });

  test("a viewer cannot disable, enable, revoke or delete", async () => {
    const { id } = await enroll();
    for (const name of ["disable", "enable", "revoke"]) {
      const response = await action(id, name, viewer);
      expect(response.status).toBe(403);
      expect(response.error?.code).toBe("forbidden");
    }
    expect(
      (await hub.request("DELETE", `/api/managed-machines/${id}`, { token: viewer })).status,
    ).toBe(403);
    expect((await getMachine(id)).status).toBe("pending");
  });

  test("delete is refused while repositories use the machine, then removes it and its credential", async () => {
    const { agent, id } = await enroll();
    await hub.sql(
      `INSERT INTO repositories (name, agent_machine_id, location, borg_version, encryption,
         passphrase_location, source_paths, exclude_patterns, compression, archive_name)
       VALUES ('home', ?, '/srv/borg/home', 1, 'repokey-blake2', 'hub', ?, ?, 'lz4', '{hostname}-{now}')`,
      [id, ["/home"], []],
    );

    const refused = await hub.request("DELETE", `/api/managed-machines/${id}`, { token: admin });
    expect(refused.status).toBe(409);
    const error = ErrorBody.parse(refused.body);
    expect(error.code).toBe("conflict");
    expect(error.error).toContain("used by 1 repository");
    expect((await getMachine(id)).id).toBe(id);

    await hub.sql("DELETE FROM repositories WHERE agent_machine_id = ?", [id]);
    const deleted = await hub.request("DELETE", `/api/managed-machines/${id}`, { token: admin });
    expect(deleted.status).toBe(204);
    const gone = await hub.request("GET", `/api/managed-machines/${id}`, { token: viewer });
    expect(gone.status).toBe(404);
    expect((await agent.heartbeat()).status).toBe(401);
    expect(await auditActions(`machine:${id}`)).toContain("agent.delete");
  });

  test("no token value reaches the logs or the audit trail", async () => {
    const audit = (await hub.request("GET", "/api/audit?limit=1000", { token: admin })).text;
    const logs = hub.logLines.join("\n");
    expect(issued.length).toBeGreaterThan(8);
    for (const token of issued) {
      expect(audit).not.toContain(token);
      expect(logs).not.toContain(token);
    }
  });
});
