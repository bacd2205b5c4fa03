import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RegisterResponse } from "../../../src/shared/protocol/agent.ts";
import {
  AuditEvent,
  CreatedEnrollmentToken,
  EnrollmentToken,
  Machine,
} from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { MIN_SUPPORTED_PROTOCOL, PROTOCOL_VERSION } from "../../../src/shared/protocol/version.ts";
import {
  expectError,
  FakeAgent,
  newEnrollmentToken,
  registrationBody,
} from "../../helpers/fake-agent.ts";
import { createTestHub } from "../../helpers/hub.ts";

const hub = createTestHub();
let server: { url: string; stop(): void };
let admin: string;
/** Every token value issued in this file: none may show up in the audit trail or the logs. */
const issued: string[] = [];

const fixtureKey = (name: string) =>
  readFileSync(join(import.meta.dir, "../../fixtures/ssh-keys", name), "utf8").trim();

const machineCount = async () =>
  (await hub.sql<{ n: number }>("SELECT count(*) AS n FROM agent_machines"))[0]?.n ?? 0;

async function enrollmentToken(expiresInMinutes = 60): Promise<string> {
  const token = await newEnrollmentToken(hub, admin, { expiresInMinutes });
  issued.push(token);
  return token;
}

async function auditEvents(action?: string) {
  const query = action ? `?limit=1000&action=${action}` : "?limit=1000";
  const response = await hub.request("GET", `/api/audit${query}`, { token: admin });
  expect(response.status).toBe(200);
  return AuditEvent.array().parse(response.body);
}

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  issued.push(admin);
});
afterAll(() => {
  server.stop();
  hub.close();
});

describe("enrollment tokens", () => {
  test("created by an admin, shown once, listed without the value, stored only as a hash", async () => {
    const created = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
      token: admin,
      body: { name: "laptop setup", expires_in_minutes: 30 },
    });
    expect(created.status).toBe(201);
    const body = CreatedEnrollmentToken.parse(created.body);
    issued.push(body.token);
    expect(body.token).toMatch(/^borgctl_enroll_[A-Za-z0-9_-]{40,}$/);
    expect(body.token.startsWith(body.token_prefix)).toBe(true);
    expect(body.token_prefix.length).toBeLessThan(body.token.length / 2);
    expect(Date.parse(body.expires_at)).toBe(hub.now() + 30 * 60_000);

    const list = await hub.request("GET", "/api/managed-machines/enrollment-tokens", {
      token: admin,
    });
    expect(list.status).toBe(200);
    const listed = EnrollmentToken.array().parse(list.body);
    const mine = listed.find((t) => t.id === body.id);
    expect(mine).toMatchObject({
      name: "laptop setup",
      token_prefix: body.token_prefix,
      used_at: null,
      revoked_at: null,
      used_by_agent_machine_id: null,
    });
    expect(list.text).not.toContain(body.token);

    const rows = await hub.sql<{ token_hash: string }>(
      "SELECT * FROM enrollment_tokens WHERE id = ?",
      [body.id],
    );
    expect(JSON.stringify(rows)).not.toContain(body.token);
    expect(rows[0]?.token_hash).toBe(createHash("sha256").update(body.token).digest("hex"));
  });

  test("revoke: 204, shown as revoked, idempotent; unknown ids are 404", async () => {
    await enrollmentToken();
    const listed = EnrollmentToken.array().parse(
      (await hub.request("GET", "/api/managed-machines/enrollment-tokens", { token: admin })).body,
    );
    const id = listed.at(-1)?.id;
    const path = `/api/managed-machines/enrollment-tokens/${id}`;
    expect((await hub.request("DELETE", path, { token: admin })).status).toBe(204);
    const after = EnrollmentToken.array().parse(
      (await hub.request("GET", "/api/managed-machines/enrollment-tokens", { token: admin })).body,
    );
    expect(after.find((t) => t.id === id)?.revoked_at).toBe(new Date(hub.now()).toISOString());
    expect((await hub.request("DELETE", path, { token: admin })).status).toBe(204);
    expect((await auditEvents("enrollment.revoke")).length).toBe(1);

    const unknown = await hub.request("DELETE", "/api/managed-machines/enrollment-tokens/9999", {
      token: admin,
    });
    expect(unknown.status).toBe(404);
    ErrorBody.parse(unknown.body);
  });

  test("requests are validated strictly", async () => {
    const extra = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
      token: admin,
      body: { name: "x", expires_in_minutes: 5, uses: 3 },
    });
    expect(extra.status).toBe(400);
    expect(ErrorBody.parse(extra.body).code).toBe("validation_failed");
    const tooLong = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
      token: admin,
      body: { name: "x", expires_in_minutes: 60 * 24 * 365 },
    });
    expect(tooLong.status).toBe(400);
  });

  test("a viewer may list machines but not touch enrollment tokens", async () => {
    const created = await hub.request("POST", "/api/users", {
      token: admin,
      body: { username: "vic", password: "viewer-password-1", role: "viewer" },
    });
    expect(created.status).toBe(201);
    const viewer = await hub.login("vic", "viewer-password-1");
    issued.push(viewer);
    const machines = await hub.request("GET", "/api/managed-machines", { token: viewer });
    expect(machines.status).toBe(200);
    Machine.array().parse(machines.body);
    for (const [method, body] of [
      ["POST", { name: "nope", expires_in_minutes: 5 }],
      ["GET", undefined],
    ] as const) {
      const refused = await hub.request(method, "/api/managed-machines/enrollment-tokens", {
        token: viewer,
        body,
      });
      expect(refused.status).toBe(403);
      expect(ErrorBody.parse(refused.body).code).toBe("forbidden");
    }
    expect(
      (await hub.request("DELETE", "/api/managed-machines/enrollment-tokens/1", { token: viewer }))
        .status,
    ).toBe(403);
    expect((await hub.request("GET", "/api/managed-machines/enrollment-tokens")).status).toBe(401);
  });
});

describe("registration", () => {
  test("a valid token registers a pending machine and is used up", async () => {
    const token = await enrollmentToken();
    const reply = await FakeAgent.register(server.url, token, {
      name: "karan-macbook",
      ssh_public_key: `${fixtureKey("ed25519.pub")}\n`,
    });
    expect(reply.status).toBe(200);
    if (!reply.ok) throw new Error("unreachable");
    const body = RegisterResponse.parse(reply.body);
    issued.push(body.agent_token);
    expect(body.agent_id).toMatch(/^agt_/);
    expect(body.agent_token).toMatch(/^borgctl_agent_/);
    expect(body.poll_interval_seconds).toBe(hub.deps.settings.pollIntervalSeconds);
    expect(body.heartbeat_interval_seconds).toBe(hub.deps.settings.heartbeatIntervalSeconds);
    expect(Date.parse(body.server_time)).toBe(hub.now());

    const machines = Machine.array().parse(
      (await hub.request("GET", "/api/managed-machines", { token: admin })).body,
    );
    const machine = machines.find((m) => m.agent_id === body.agent_id);
    expect(machine).toMatchObject({
      name: "karan-macbook",
      hostname: "fake-host.test",
      status: "pending",
      last_seen_at: null,
      // Normalised: type and base64 only, the comment dropped.
      ssh_public_key: fixtureKey("ed25519.pub").split(" ").slice(0, 2).join(" "),
    });

    const tokens = EnrollmentToken.array().parse(
      (await hub.request("GET", "/api/managed-machines/enrollment-tokens", { token: admin })).body,
    );
    const used = tokens.find((t) => token.startsWith(t.token_prefix) && t.used_at !== null);
    expect(used?.used_by_agent_machine_id).toBe(machine?.id ?? -1);

    // The credential is stored hashed only.
    const raw = JSON.stringify(await hub.sql("SELECT * FROM agent_machines"));
    expect(raw).not.toContain(body.agent_token);
    expect(raw).toContain(createHash("sha256").update(body.agent_token).digest("hex"));

    // Used: the second attempt is refused.
    const again = await FakeAgent.register(server.url, token);
    expect(again.status).toBe(401);
  });

  test("without a name the hostname names the machine", async () => {
    const agent = await FakeAgent.enroll(server.url, await enrollmentToken(), {
      hostname: "db-1.example",
    });
    issued.push(agent.token);
    const machines = Machine.array().parse(
      (await hub.request("GET", "/api/managed-machines", { token: admin })).body,
    );
    expect(machines.find((m) => m.agent_id === agent.agentId)?.name).toBe("db-1.example");
  });

  test("unknown, expired, revoked and used tokens get the same 401 and create nothing", async () => {
    const used = await enrollmentToken();
    issued.push((await FakeAgent.enroll(server.url, used)).token);

    const revoked = await enrollmentToken();
    const revokedId = EnrollmentToken.array()
      .parse(
        (await hub.request("GET", "/api/managed-machines/enrollment-tokens", { token: admin }))
          .body,
      )
      .at(-1)?.id;
    expect(
      (
        await hub.request("DELETE", `/api/managed-machines/enrollment-tokens/${revokedId}`, {
          token: admin,
        })
      ).status,
    ).toBe(204);

    const expired = await enrollmentToken(1);
    hub.tick(60_000 + 1);

    const unknown = `borgctl_enroll_${"x".repeat(43)}`;
    const wrongKind = `borgctl_api_${"x".repeat(43)}`;
    const before = await machineCount();
    const bodies: unknown[] = [];
    for (const token of [unknown, expired, revoked, used, wrongKind]) {
      const reply = await FakeAgent.register(server.url, token);
      expect(reply.status).toBe(401);
      expect(expectError(reply).code).toBe("unauthorized");
      bodies.push(reply.body);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(await machineCount()).toBe(before);

    const reasons = (await auditEvents("agent.register_failed")).map((e) => e.details?.reason);
    for (const reason of ["unknown", "expired", "revoked", "used"]) {
      expect(reasons).toContain(reason);
    }
  });

  test("ten concurrent registrations on one token: exactly one wins", async () => {
    const token = await enrollmentToken();
    const before = await machineCount();
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        FakeAgent.register(server.url, token, { hostname: `racer-${i}` }),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401, 401, 401, 401, 401, 401, 401, 401, 401]);
    for (const reply of replies) if (reply.ok) issued.push(reply.body.agent_token);
    expect(await machineCount()).toBe(before + 1);
    const uses = (await auditEvents("enrollment.use")).length;
    const registers = (await auditEvents("agent.register")).length;
    expect(uses).toBe(registers);
  });

  test("an unsupported protocol version is a 426 with the supported range, and keeps the token", async () => {
    const token = await enrollmentToken();
    const before = await machineCount();
    const tooNew = await FakeAgent.register(server.url, token, {
      protocol_version: PROTOCOL_VERSION + 1,
    });
    expect(tooNew.status).toBe(426);
    expect(expectError(tooNew).code).toBe("protocol_unsupported");
    expect(expectError(tooNew).details).toEqual({
      min: MIN_SUPPORTED_PROTOCOL,
      max: PROTOCOL_VERSION,
    });

    // The header alone is enough, even when the body is one this hub can't read.
    const response = await fetch(`${server.url}/api/agents/register`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Borg-Agent-Protocol": "999" },
      body: JSON.stringify({ ...registrationBody(token), some_future_field: true }),
    });
    expect(response.status).toBe(426);
    expect(ErrorBody.parse(await response.json()).details).toEqual({
      min: MIN_SUPPORTED_PROTOCOL,
      max: PROTOCOL_VERSION,
    });

    expect(await machineCount()).toBe(before);
    const agent = await FakeAgent.enroll(server.url, token);
    issued.push(agent.token);
    expect(await machineCount()).toBe(before + 1);
  });

  test("an invalid SSH key is a 400 with the reason; nothing is created and the token survives", async () => {
    const token = await enrollmentToken();
    const before = await machineCount();
    for (const [key, reason] of [
      ["ssh-ed25519 AAAA", "truncated"],
      [`command="rm -rf /" ${fixtureKey("ed25519.pub")}`, "options are not allowed"],
      [fixtureKey("rsa-1024.pub"), "at least 2048 bits"],
    ] as const) {
      const reply = await FakeAgent.register(server.url, token, { ssh_public_key: key });
      expect(reply.status).toBe(400);
      expect(expectError(reply).code).toBe("validation_failed");
      expect(expectError(reply).error).toContain(reason);
    }
    expect(await machineCount()).toBe(before);
    const agent = await FakeAgent.enroll(server.url, token, {
      ssh_public_key: fixtureKey("ecdsa-256.pub"),
    });
    issued.push(agent.token);
    expect(await machineCount()).toBe(before + 1);
  });

  test("unknown fields are ignored (a newer agent's), and give nothing", async () => {
    const token = await enrollmentToken();
    const response = await hub.request("POST", "/api/agents/register", {
      body: { ...registrationBody(token), admin: true, status: "online" },
    });
    expect(response.status).toBe(200);
    const { agent_token } = response.body as { agent_token: string };
    issued.push(agent_token);
    const machine = (await hub.deps.store.machines.list()).find(
      (m) => m.agentId === (response.body as { agent_id: string }).agent_id,
    );
    expect(machine?.status).toBe("pending");
  });
});

describe("observability", () => {
  test("create, use, revoke and register are audited; no token value in the audit or the logs", async () => {
    const events = await auditEvents();
    const actions = new Set(events.map((e) => e.action));
    for (const action of [
      "enrollment.create",
      "enrollment.use",
      "enrollment.revoke",
      "agent.register",
      "agent.register_failed",
    ]) {
      expect(actions).toContain(action);
    }
    const register = events.find((e) => e.action === "agent.register");
    expect(register?.actor).toMatch(/^agent:\d+:agt_/);
    expect(register?.target).toMatch(/^machine:\d+$/);
    const trail = JSON.stringify(events);
    const logs = hub.logLines.join("\n");
    expect(issued.length).toBeGreaterThan(10);
    for (const token of issued) {
      expect(trail).not.toContain(token);
      expect(logs).not.toContain(token);
    }
  });
});
