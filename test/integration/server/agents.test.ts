import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sweepOfflineAgents } from "../../../src/server/services/machines.ts";
import { AuditEvent, Machine } from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { MIN_SUPPORTED_PROTOCOL, PROTOCOL_VERSION } from "../../../src/shared/protocol/version.ts";
import { expectError, expectOk, FakeAgent, newEnrollmentToken } from "../../helpers/fake-agent.ts";
import { createTestHub, RAW_JOB_PAYLOAD } from "../../helpers/hub.ts";

// Non-default intervals, so the answers provably come from the settings.
const hub = createTestHub({ settings: { pollIntervalSeconds: 7, heartbeatIntervalSeconds: 11 } });
let server: { url: string; stop(): void };
let admin: string;
const issued: string[] = [];

const fixtureKey = (name: string) =>
  readFileSync(join(import.meta.dir, "../../fixtures/ssh-keys", name), "utf8").trim();

async function enroll(hostname = "fake-host.test"): Promise<FakeAgent> {
  const enrollment = await newEnrollmentToken(hub, admin);
  const agent = await FakeAgent.enroll(server.url, enrollment, { hostname });
  issued.push(enrollment, agent.token);
  return agent;
}

async function machineOf(agent: FakeAgent) {
  const list = Machine.array().parse(
    (await hub.request("GET", "/api/managed-machines", { token: admin })).body,
  );
  const machine = list.find((m) => m.agent_id === agent.agentId);
  if (!machine) throw new Error(`no machine for ${agent.agentId}`);
  return machine;
}

async function statusEvents(machineId: number) {
  const response = await hub.request("GET", "/api/audit?limit=1000&action=agent.status", {
    token: admin,
  });
  return AuditEvent.array()
    .parse(response.body)
    .filter((e) => e.target === `machine:${machineId}`)
    .map((e) => e.details)
    .reverse();
}

/** Jobs are created by the job services; here rows are written directly to test leases. */
async function insertJob(
  machineId: number,
  status: string,
  leaseExpiresAt: number | null = null,
): Promise<number> {
  const [row] = await hub.sql<{ id: number }>(
    `INSERT INTO jobs (agent_machine_id, job_kind, status, payload, triggered_by, lease_expires_at)
     VALUES (?, 'backup.create', ?, ?, 'test', ?) RETURNING id`,
    [machineId, status, JSON.parse(RAW_JOB_PAYLOAD), leaseExpiresAt],
  );
  return row?.id ?? 0;
}

const leaseOf = async (jobId: number) =>
  (
    await hub.sql<{ lease: number | null }>(
      "SELECT lease_expires_at AS lease FROM jobs WHERE id = ?",
      [jobId],
    )
  )[0]?.lease;

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  issued.push(admin);
});
afterAll(() => {
  server.stop();
  hub.close();
});

describe("heartbeat", () => {
  test("pending → online, facts recorded, intervals from the settings; online → online is not audited", async () => {
    const agent = await enroll();
    const registered = await machineOf(agent);
    expect(registered.status).toBe("pending");

    agent.facts.agent_version = "0.2.0";
    agent.facts.borg_versions = [{ major: 2, version: "2.0.0b5", path: "/opt/borg2" }];
    const first = await agent.heartbeat([], { last_error: "borg 1 missing" });
    expect(first.status).toBe(200);
    const body = expectOk(first);
    expect(body).toEqual({
      server_time: new Date(hub.now()).toISOString(),
      poll_interval_seconds: 7,
      heartbeat_interval_seconds: 11,
      cancel_job_ids: [],
    });

    const online = await machineOf(agent);
    expect(online).toMatchObject({
      status: "online",
      agent_version: "0.2.0",
      borg_versions: [{ major: 2, version: "2.0.0b5", path: "/opt/borg2" }],
      last_error: "borg 1 missing",
      last_seen_at: new Date(hub.now()).toISOString(),
    });

    hub.tick(30_000);
    expectOk(await agent.heartbeat([], { last_error: null }));
    const again = await machineOf(agent);
    expect(again.last_error).toBeNull();
    expect(again.last_seen_at).toBe(new Date(hub.now()).toISOString());
    expect(await statusEvents(online.id)).toEqual([{ from: "pending", to: "online" }]);
  });

  test("the sweep marks a silent machine offline after the threshold; the next heartbeat brings it back", async () => {
    const agent = await enroll();
    expectOk(await agent.heartbeat());
    const { id } = await machineOf(agent);

    hub.tick(2 * 60_000 - 1_000);
    expect((await sweepOfflineAgents(hub.deps)).map((m) => m.id)).not.toContain(id);
    expect((await machineOf(agent)).status).toBe("online");

    hub.tick(2_000);
    const swept = await sweepOfflineAgents(hub.deps);
    expect(swept.map((m) => m.id)).toContain(id);
    expect((await machineOf(agent)).status).toBe("offline");
    // A second sweep finds nothing new to do.
    expect((await sweepOfflineAgents(hub.deps)).map((m) => m.id)).not.toContain(id);

    expectOk(await agent.heartbeat());
    expect((await machineOf(agent)).status).toBe("online");
    const events = await statusEvents(id);
    expect(events.map((e) => `${e?.from}→${e?.to}`)).toEqual([
      "pending→online",
      "online→offline",
      "offline→online",
    ]);
  });

  test("sweep after tick(2 min + 1 s) from the last heartbeat", async () => {
    const agent = await enroll();
    expectOk(await agent.heartbeat());
    hub.tick(2 * 60_000 + 1_000);
    await sweepOfflineAgents(hub.deps);
    expect((await machineOf(agent)).status).toBe("offline");
    expectOk(await agent.heartbeat());
    expect((await machineOf(agent)).status).toBe("online");
  });

  test("a pending machine that never heartbeats is not swept", async () => {
    const agent = await enroll();
    hub.tick(10 * 60_000);
    await sweepOfflineAgents(hub.deps);
    expect((await machineOf(agent)).status).toBe("pending");
  });

  test("another agent's agent_id is a 403 and changes nothing", async () => {
    const a = await enroll();
    const b = await enroll();
    const reply = await a.heartbeat([], { agent_id: b.agentId });
    expect(reply.status).toBe(403);
    expect(expectError(reply).code).toBe("forbidden");
    expect((await machineOf(a)).status).toBe("pending");
    expect((await machineOf(b)).status).toBe("pending");
  });

  test("an unsupported protocol version is a 426 with the range", async () => {
    const agent = await enroll();
    const raw = await agent.request("POST", "/api/agents/heartbeat", {
      agent_id: agent.agentId,
      protocol_version: PROTOCOL_VERSION + 1,
      running_job_ids: [],
    });
    expect(raw.status).toBe(426);
    expect(ErrorBody.parse(raw.body).details).toEqual({
      min: MIN_SUPPORTED_PROTOCOL,
      max: PROTOCOL_VERSION,
    });
    expect((await machineOf(agent)).status).toBe("pending");
  });

  test("an SSH key in a heartbeat is validated and stored normalised", async () => {
    const agent = await enroll();
    const bad = await agent.heartbeat([], { ssh_public_key: "ssh-dss AAAAB3NzaC1kc3M=" });
    expect(bad.status).toBe(400);
    expect(expectError(bad).error).toContain("DSA keys are not supported");
    expect((await machineOf(agent)).ssh_public_key).toBeNull();

    const key = fixtureKey("ed25519.pub");
    expectOk(await agent.heartbeat([], { ssh_public_key: key }));
    expect((await machineOf(agent)).ssh_public_key).toBe(key.split(" ").slice(0, 2).join(" "));
  });

  test("leases of the agent's own running jobs are renewed; cancel requests are answered", async () => {
    const agent = await enroll();
    const other = await enroll();
    const mine = (await machineOf(agent)).id;
    const theirs = (await machineOf(other)).id;
    const old = hub.now() + 1_000;
    const running = await insertJob(mine, "running", old);
    const claimed = await insertJob(mine, "claimed", old);
    const canceling = await insertJob(mine, "cancel_requested", old);
    const queued = await insertJob(mine, "queued");
    const finished = await insertJob(mine, "completed", old);
    const foreign = await insertJob(theirs, "running", old);
    const foreignCanceling = await insertJob(theirs, "cancel_requested", old);

    hub.tick(60_000);
    const body = expectOk(
      await agent.heartbeat([running, claimed, canceling, queued, finished, foreign]),
    );
    expect(body.cancel_job_ids).toEqual([canceling]);
    expect(body.cancel_job_ids).not.toContain(foreignCanceling);

    const renewed = hub.now() + hub.deps.settings.leaseMs;
    expect(await leaseOf(running)).toBe(renewed);
    expect(await leaseOf(claimed)).toBe(renewed);
    expect(await leaseOf(canceling)).toBe(renewed);
    expect(await leaseOf(queued)).toBeNull();
    expect(await leaseOf(finished)).toBe(old);
    expect(await leaseOf(foreign)).toBe(old);
  });
});

describe("unregister and credentials", () => {
  test("unregister revokes the credential at once, everywhere", async () => {
    const agent = await enroll();
    expectOk(await agent.heartbeat());
    const { id } = await machineOf(agent);
    const queued = await insertJob(id, "queued");
    expect(expectOk(await agent.poll()).jobs.map((j) => j.id)).toEqual([queued]);

    const reply = await agent.unregister();
    expect(reply.status).toBe(204);
    expect((await machineOf(agent)).status).toBe("revoked");
    const [job] = await hub.sql("SELECT status, error_message FROM jobs WHERE id = ?", [queued]);
    expect(job).toEqual({ status: "canceled", error_message: "agent unregistered" });

    const heartbeat = await agent.heartbeat();
    expect(heartbeat.status).toBe(401);
    expect(expectError(heartbeat).code).toBe("unauthorized");
    expect((await agent.unregister()).status).toBe(401);
    expect((await agent.poll()).status).toBe(401);

    const audit = AuditEvent.array().parse(
      (await hub.request("GET", "/api/audit?action=agent.unregister", { token: admin })).body,
    );
    expect(audit.map((e) => e.target)).toContain(`machine:${id}`);
  });

  test("an agent token is not a user credential, and a user token is not an agent credential", async () => {
    const agent = await enroll();
    const asUser = await hub.request("GET", "/api/managed-machines", { token: agent.token });
    expect(asUser.status).toBe(401);
    expect(ErrorBody.parse(asUser.body).code).toBe("unauthorized");
    const asUserByAgentHeader = await hub.request("GET", "/api/managed-machines", {
      agentToken: agent.token,
    });
    expect(asUserByAgentHeader.status).toBe(401);

    const unusedEnrollment = await newEnrollmentToken(hub, admin);
    issued.push(unusedEnrollment);
    for (const token of [admin, unusedEnrollment]) {
      const impostor = new FakeAgent(server.url, agent.agentId, token);
      const reply = await impostor.heartbeat();
      expect(reply.status).toBe(401);
      expect(expectError(reply).code).toBe("unauthorized");
      expect((await impostor.unregister()).status).toBe(401);
    }
    // Nothing got through: the real agent's machine is untouched.
    expect((await machineOf(agent)).status).toBe("pending");
  });

  test("a missing or malformed credential is a 401; a malformed body with a good one is a 400", async () => {
    const noCredential = await hub.request("POST", "/api/agents/heartbeat", {
      body: { agent_id: "agt_x", protocol_version: 1, running_job_ids: [] },
    });
    expect(noCredential.status).toBe(401);
    const agent = await enroll();
    const extra = await agent.request("POST", "/api/agents/heartbeat", {
      agent_id: agent.agentId,
      protocol_version: PROTOCOL_VERSION,
      running_job_ids: "all of them",
    });
    expect(extra.status).toBe(400);
    expect(ErrorBody.parse(extra.body).code).toBe("validation_failed");
  });

  test("no token value reaches the logs or the audit trail", async () => {
    const audit = (await hub.request("GET", "/api/audit?limit=1000", { token: admin })).text;
    const logs = hub.logLines.join("\n");
    expect(issued.length).toBeGreaterThan(10);
    for (const token of issued) {
      expect(audit).not.toContain(token);
      expect(logs).not.toContain(token);
    }
    expect(logs).toContain("agent authentication failed");
  });
});
