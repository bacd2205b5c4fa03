/**
 * CSRF: changes signed in by the session cookie must come from the hub's own origin and
 * send JSON; bearer tokens (scripts, the CLI) and agents are unaffected; a cross-origin
 * login is refused. Over real HTTP, since the Host header and the content type matter.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreatedApiToken, Machine } from "../../../src/shared/protocol/api.ts";
import { PROTOCOL_VERSION } from "../../../src/shared/protocol/version.ts";
import { ADMIN_PASSWORD, createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine } from "../../helpers/hub-fixtures.ts";

const hub = createTestHub({ settings: { publicOrigin: "https://hub.example.com" } });
let server: ReturnType<typeof hub.serve>;
let session: string;
const EVIL = "https://evil.example";

beforeAll(async () => {
  session = await hub.login();
  server = hub.serve();
});
afterAll(() => {
  server.stop();
  hub.close();
});

const call = (
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: BodyInit,
): Promise<Response> => fetch(`${server.url}${path}`, { method, headers, body });

/** POST /api/tokens signed in by the cookie: JSON from the hub's origin unless overridden. */
const createTokenByCookie = (name: string, headers: Record<string, string> = {}) =>
  call(
    "POST",
    "/api/tokens",
    {
      cookie: `borgctl_session=${session}`,
      origin: server.url,
      "content-type": "application/json",
      ...headers,
    },
    JSON.stringify({ name }),
  );

const tokenNames = async () =>
  ((await hub.request("GET", "/api/tokens", { token: session })).body as { name: string }[]).map(
    (t) => t.name,
  );

async function expectForbidden(response: Response, says: string) {
  expect(response.status).toBe(403);
  const body = (await response.json()) as { code: string; error: string };
  expect(body.code).toBe("forbidden");
  expect(body.error).toContain(says);
}

describe("cookie-authenticated changes", () => {
  test("from another origin: 403 forbidden, nothing created", async () => {
    await expectForbidden(await createTokenByCookie("evil", { origin: EVIL }), "cross-site");
    for (const origin of [
      "null",
      "not a url",
      `http://localhost:${server.port}`, // another host name is another origin
      `http://127.0.0.1:${server.port + 1}`,
      `ftp://127.0.0.1:${server.port}`,
    ]) {
      expect((await createTokenByCookie("evil", { origin })).status).toBe(403);
    }
    expect(await tokenNames()).not.toContain("evil");
  });

  test("with no Origin, or Origin null: only Sec-Fetch-Site: same-origin passes", async () => {
    await expectForbidden(
      await call(
        "POST",
        "/api/tokens",
        { cookie: `borgctl_session=${session}`, "content-type": "application/json" },
        JSON.stringify({ name: "bare" }),
      ),
      "Origin",
    );
    for (const site of ["same-site", "cross-site", "none"]) {
      const response = await call(
        "POST",
        "/api/tokens",
        {
          cookie: `borgctl_session=${session}`,
          "content-type": "application/json",
          "sec-fetch-site": site,
        },
        JSON.stringify({ name: site }),
      );
      expect(response.status).toBe(403);
    }
    const sameOrigin = await call(
      "POST",
      "/api/tokens",
      {
        cookie: `borgctl_session=${session}`,
        "content-type": "application/json",
        "sec-fetch-site": "same-origin",
      },
      JSON.stringify({ name: "fetch-site" }),
    );
    expect(sameOrigin.status).toBe(201);
    // Origin "null" (Referrer-Policy: no-referrer on a non-CORS request, or a sandboxed
    // frame): only the browser's Sec-Fetch-Site can vouch for it.
    expect(
      (await createTokenByCookie("null-same", { origin: "null", "sec-fetch-site": "same-origin" }))
        .status,
    ).toBe(201);
    expect(
      (await createTokenByCookie("null-cross", { origin: "null", "sec-fetch-site": "cross-site" }))
        .status,
    ).toBe(403);
    expect(await tokenNames()).toEqual(["fetch-site", "null-same"]);
  });

  test("from the hub's origin or public_url's origin: accepted", async () => {
    expect((await createTokenByCookie("same")).status).toBe(201);
    const viaPublicUrl = await createTokenByCookie("public", { origin: "https://hub.example.com" });
    expect(viaPublicUrl.status).toBe(201);
    CreatedApiToken.parse(await viaPublicUrl.json());
    // public_url is https: the same host over http is another origin.
    expect(
      (await createTokenByCookie("public-http", { origin: "http://hub.example.com" })).status,
    ).toBe(403);
  });

  test("form content types are refused even from the hub's origin; JSON with a charset passes", async () => {
    for (const type of [
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "text/plain",
      "text/plain;charset=UTF-8",
    ]) {
      await expectForbidden(
        await createTokenByCookie("form", { "content-type": type }),
        "application/json",
      );
    }
    expect(await tokenNames()).not.toContain("form");
    const charset = await createTokenByCookie("charset", {
      "content-type": "application/json; charset=utf-8",
    });
    expect(charset.status).toBe(201);
  });

  test("a body with no content type is refused; body-less POST and DELETE pass (the UI's own calls)", async () => {
    const cookieOnly = { cookie: `borgctl_session=${session}`, origin: server.url };
    // Bun's fetch sends a string body with no content type.
    await expectForbidden(
      await call("POST", "/api/tokens", cookieOnly, JSON.stringify({ name: "untyped" })),
      "application/json",
    );
    const machine = await addAgentMachine(hub);
    const disabled = await call("POST", `/api/managed-machines/${machine.machineId}/disable`, {
      ...cookieOnly,
    });
    expect(disabled.status).toBe(200);
    expect(Machine.parse(await disabled.json()).status).toBe("disabled");
    await expectForbidden(
      await call("DELETE", `/api/managed-machines/${machine.machineId}`, {
        ...cookieOnly,
        origin: EVIL,
      }),
      "cross-site",
    );
    expect(
      (await call("DELETE", `/api/managed-machines/${machine.machineId}`, cookieOnly)).status,
    ).toBe(204);
  });

  test("reads are not affected", async () => {
    const me = await call("GET", "/api/auth/me", {
      cookie: `borgctl_session=${session}`,
      origin: EVIL,
    });
    expect(me.status).toBe(200);
  });
});

describe("bearer tokens and agents are not cookie-authenticated", () => {
  test("Authorization: Bearer passes from any origin and as text/plain, even with a cookie alongside", async () => {
    const response = await call(
      "POST",
      "/api/tokens",
      {
        authorization: `Bearer ${session}`,
        cookie: `borgctl_session=${session}`,
        origin: EVIL,
        "content-type": "application/json",
      },
      JSON.stringify({ name: "script" }),
    );
    expect(response.status).toBe(201);
    const logout = await call("POST", "/api/auth/logout", {
      authorization: `Bearer ${await hub.login()}`,
      origin: EVIL,
      "content-type": "text/plain",
    });
    expect(logout.status).toBe(204);
  });

  test("the agent runtime header passes through to the agent's own authentication", async () => {
    const machine = await addAgentMachine(hub);
    const heartbeat = await call(
      "POST",
      "/api/agents/heartbeat",
      {
        "x-borg-agent-authorization": `Bearer ${machine.token}`,
        cookie: `borgctl_session=${session}`,
        origin: EVIL,
        "content-type": "application/json",
      },
      JSON.stringify({
        agent_id: machine.agentId,
        protocol_version: PROTOCOL_VERSION,
        running_job_ids: [],
      }),
    );
    expect(heartbeat.status).toBe(200);
  });
});

describe("login", () => {
  const login = (headers: Record<string, string>) =>
    call(
      "POST",
      "/api/auth/login",
      { "content-type": "application/json", ...headers },
      JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
    );

  test("from another origin: 403 and no cookie; from the hub, or without Origin (CLI): 200", async () => {
    const cross = await login({ origin: EVIL });
    expect(cross.headers.get("set-cookie")).toBeNull();
    await expectForbidden(cross, "cross-site");
    const same = await login({ origin: server.url });
    expect(same.status).toBe(200);
    expect(same.headers.get("set-cookie")).toContain("borgctl_session=");
    expect((await login({})).status).toBe(200);
    expect((await login({ origin: "null" })).status).toBe(403);
    expect((await login({ origin: "null", "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await login({ origin: "null", "sec-fetch-site": "same-origin" })).status).toBe(200);
  });
});

describe("the session cookie", () => {
  test("logout by cookie from the hub's origin, body-less as the UI sends it", async () => {
    const logout = await call("POST", "/api/auth/logout", {
      cookie: `borgctl_session=${session}`,
      origin: server.url,
    });
    expect(logout.status).toBe(204);
    expect((await hub.request("GET", "/api/auth/me", { token: session })).status).toBe(401);
  });
});
