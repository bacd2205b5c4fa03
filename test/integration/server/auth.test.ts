import { afterAll, describe, expect, test } from "bun:test";
import {
  ApiToken,
  CreatedApiToken,
  LoginResponse,
  Me,
  User,
} from "../../../src/shared/protocol/api.ts";
import { ADMIN_PASSWORD, createTestHub } from "../../helpers/hub.ts";

const hub = createTestHub();
afterAll(() => hub.close());

describe("hub auth", () => {
  test("health needs no credentials", async () => {
    const { status, body } = await hub.request("GET", "/api/health");
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ok", version: "0.0.0-test" });
  });

  test("the first admin logs in; the cookie is HttpOnly and SameSite=Strict", async () => {
    const response = await hub.request("POST", "/api/auth/login", {
      body: { username: "admin", password: ADMIN_PASSWORD },
    });
    expect(response.status).toBe(200);
    const body = LoginResponse.parse(response.body);
    expect(body.user).toMatchObject({ username: "admin", role: "admin" });
    expect(body.token).toMatch(/^borgctl_session_/);
    const cookie = response.headers.get("set-cookie") ?? "";
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    const me = await hub.request("GET", "/api/auth/me", {
      headers: { cookie: `borgctl_session=${body.token}` },
    });
    expect(Me.parse(me.body)).toMatchObject({ username: "admin", role: "admin", via: "session" });
  });

  test("wrong passwords and unknown users get the same answer; nothing is logged but the name", async () => {
    const wrong = await hub.request("POST", "/api/auth/login", {
      body: { username: "admin", password: "nope-nope-nope" },
    });
    const unknown = await hub.request("POST", "/api/auth/login", {
      body: { username: "ghost", password: "nope-nope-nope" },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(hub.logLines.join("\n")).not.toContain("nope-nope-nope");
  });

  test("too many failures from one address are refused with 429, even with the right password", async () => {
    const ip = "198.51.100.7";
    for (let i = 0; i < 20; i++) {
      await hub.request("POST", "/api/auth/login", {
        ip,
        body: { username: `u${i}`, password: "bad-password" },
      });
    }
    const blocked = await hub.request("POST", "/api/auth/login", {
      ip,
      body: { username: "admin", password: ADMIN_PASSWORD },
    });
    expect(blocked.status).toBe(429);
    expect((blocked.body as { code: string }).code).toBe("rate_limited");
    hub.tick(61_000);
    const later = await hub.request("POST", "/api/auth/login", {
      ip,
      body: { username: "admin", password: ADMIN_PASSWORD },
    });
    expect(later.status).toBe(200);
    // 22 real argon2id checks: room for a loaded machine.
  }, 60_000);

  test("roles: viewer reads, cannot manage users; API tokens never exceed their user's role", async () => {
    const admin = await hub.login();
    const created = await hub.request("POST", "/api/users", {
      token: admin,
      body: { username: "vera", password: "viewer-password-1", role: "viewer" },
    });
    expect(created.status).toBe(201);
    User.parse(created.body);
    const vera = await hub.login("vera", "viewer-password-1");
    expect((await hub.request("GET", "/api/users", { token: vera })).status).toBe(403);
    const escalate = await hub.request("POST", "/api/tokens", {
      token: vera,
      body: { name: "x", role: "admin" },
    });
    expect(escalate.status).toBe(403);
    const own = await hub.request("POST", "/api/tokens", { token: vera, body: { name: "ci" } });
    expect(own.status).toBe(201);
    const token = CreatedApiToken.parse(own.body);
    expect(token.token).toMatch(/^borgctl_api_/);
    expect(token.role).toBe("viewer");
    const list = await hub.request("GET", "/api/tokens", { token: token.token });
    expect(list.status).toBe(200);
    const listed = ApiToken.array().parse(list.body);
    expect(listed.map((t) => t.token_prefix)).toEqual([token.token_prefix]);
    expect(list.text).not.toContain(token.token);
    const viaToken = await hub.request("GET", "/api/auth/me", { token: token.token });
    expect(Me.parse(viaToken.body)).toMatchObject({ username: "vera", via: "api_token" });
    // The database keeps only a hash.
    const raw = await hub.sql("SELECT token_hash FROM api_tokens");
    expect(JSON.stringify(raw)).not.toContain(token.token);
    // Revoked: refused at once.
    expect((await hub.request("DELETE", `/api/tokens/${token.id}`, { token: vera })).status).toBe(
      204,
    );
    expect((await hub.request("GET", "/api/tokens", { token: token.token })).status).toBe(401);
  });

  test("the last admin cannot be demoted or deleted; a changed password ends sessions", async () => {
    const admin = await hub.login();
    const users = (await hub.request("GET", "/api/users", { token: admin })).body as {
      id: number;
      username: string;
    }[];
    const adminId = users.find((u) => u.username === "admin")?.id;
    expect(
      (
        await hub.request("PATCH", `/api/users/${adminId}`, {
          token: admin,
          body: { role: "viewer" },
        })
      ).status,
    ).toBe(409);
    expect((await hub.request("DELETE", `/api/users/${adminId}`, { token: admin })).status).toBe(
      409,
    );
    const veraId = users.find((u) => u.username === "vera")?.id;
    const vera = await hub.login("vera", "viewer-password-1");
    await hub.request("PATCH", `/api/users/${veraId}`, {
      token: admin,
      body: { password: "a-new-password-2" },
    });
    expect((await hub.request("GET", "/api/auth/me", { token: vera })).status).toBe(401);
  });

  test("sessions expire; logout ends the session", async () => {
    const token = await hub.login();
    expect((await hub.request("POST", "/api/auth/logout", { token })).status).toBe(204);
    expect((await hub.request("GET", "/api/auth/me", { token })).status).toBe(401);
    const other = await hub.login();
    hub.tick(13 * 60 * 60_000);
    expect((await hub.request("GET", "/api/auth/me", { token: other })).status).toBe(401);
  });

  test("bad input: unknown fields and malformed JSON are 400s", async () => {
    const extra = await hub.request("POST", "/api/auth/login", {
      body: { username: "admin", password: "x", admin: true },
    });
    expect(extra.status).toBe(400);
    const malformed = await hub.request("POST", "/api/auth/login", { body: "{nope" });
    expect(malformed.status).toBe(400);
    expect((await hub.request("GET", "/api/nope")).status).toBe(404);
  });

  test("the audit trail records logins and failures, admin only", async () => {
    const admin = await hub.login();
    const audit = await hub.request("GET", "/api/audit?limit=500", { token: admin });
    expect(audit.status).toBe(200);
    const actions = (audit.body as { action: string }[]).map((e) => e.action);
    expect(actions).toContain("auth.login");
    expect(actions).toContain("auth.login_failed");
    expect(actions).toContain("user.bootstrap");
    expect(audit.text).not.toContain(ADMIN_PASSWORD);
  });
});
