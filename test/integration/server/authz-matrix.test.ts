/**
 * The authorization matrix: every route the real app registers (read from app.routes, so
 * a new route cannot be forgotten) against every kind of caller: nobody, an agent
 * credential on user routes (in its own header and as a Bearer token), a viewer, an
 * operator and an admin (each by session and by API token), user credentials on the agent
 * runtime routes, a revoked agent, and another agent on an agent's own jobs.
 *
 * MIN_ROLE says who may call each route; the test fails when a registered route is not in
 * it (classify the new route) and when an entry names no route (a route went away or
 * changed its path). Refused callers must get 401 (no or the wrong kind of credential),
 * 403 (a role too low) or 404 (another agent's job: it must not learn the job exists),
 * and the database must be unchanged afterwards; allowed callers call with real ids and a
 * valid body and must get a 2xx (their handler ran).
 *
 * Then the repository settings by role: an operator's PATCH that touches an admin-only
 * field is 403 naming the field and changes nothing; the fields are read from the
 * request schema, so a new field must be classified here too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Repository, UpdateRepositoryRequest } from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { createTestHub, type RequestOptions, type TestResponse } from "../../helpers/hub.ts";
import { addAgentMachine, type TestAgent } from "../../helpers/hub-fixtures.ts";
import {
  type Call,
  type Caller,
  createWorld,
  databaseSnapshot,
  NOT_API,
  ROUTE_CALLS,
  type Role,
  routeTableOf,
  type World,
  warmUp,
} from "../../helpers/route-catalog.ts";

/** Who may call each route: the lowest user role, or "agent" (the agent's own credential). */
const MIN_ROLE: Record<string, Role | "agent"> = {
  "POST /api/auth/logout": "viewer",
  "GET /api/auth/me": "viewer",

  "GET /api/users": "admin",
  "POST /api/users": "admin",
  "PATCH /api/users/:id": "admin",
  "DELETE /api/users/:id": "admin",

  // Every user manages their own API tokens.
  "GET /api/tokens": "viewer",
  "POST /api/tokens": "viewer",
  "DELETE /api/tokens/:id": "viewer",

  "GET /api/audit": "admin",

  "POST /api/managed-machines/enrollment-tokens": "admin",
  "GET /api/managed-machines/enrollment-tokens": "admin",
  "DELETE /api/managed-machines/enrollment-tokens/:id": "admin",
  "GET /api/managed-machines": "viewer",
  "GET /api/managed-machines/:id": "viewer",
  "PATCH /api/managed-machines/:id": "admin",
  "POST /api/managed-machines/:id/disable": "admin",
  "POST /api/managed-machines/:id/enable": "admin",
  "POST /api/managed-machines/:id/revoke": "admin",
  "DELETE /api/managed-machines/:id": "admin",

  "POST /api/agents/heartbeat": "agent",
  "POST /api/agents/unregister": "agent",
  "GET /api/agents/jobs/poll": "agent",
  "GET /api/agents/jobs/:id": "agent",
  "POST /api/agents/jobs/:id/claim": "agent",
  "POST /api/agents/jobs/:id/start": "agent",
  "POST /api/agents/jobs/:id/progress": "agent",
  "POST /api/agents/jobs/:id/logs": "agent",
  "POST /api/agents/jobs/:id/listing": "agent",
  "POST /api/agents/jobs/:id/download": "agent",
  "POST /api/agents/jobs/:id/complete": "agent",
  "POST /api/agents/jobs/:id/fail": "agent",
  "POST /api/agents/jobs/:id/canceled": "agent",
  "POST /api/agents/jobs/:id/cancel": "agent",

  // A repository decides what the machine's root-run agent reads and where it goes:
  // admins create and delete them; operators run jobs and change harmless fields (the
  // PATCH route lets operators in and decides per field, see the second describe).
  "GET /api/boxes": "viewer",
  "POST /api/boxes": "admin",
  "GET /api/boxes/:id": "viewer",
  "PATCH /api/boxes/:id": "admin",
  "DELETE /api/boxes/:id": "admin",
  "GET /api/boxes/:id/repos": "viewer",

  "GET /api/repositories": "viewer",
  "POST /api/repositories": "admin",
  "GET /api/repositories/:id": "viewer",
  "PATCH /api/repositories/:id": "operator",
  "DELETE /api/repositories/:id": "admin",
  "GET /api/repositories/:id/archives": "viewer",
  // Viewers read cached listings; listing an uncached archive (a job) needs an operator.
  "GET /api/repositories/:id/archives/:archive/tree": "viewer",
  "POST /api/repositories/:id/restore": "operator",
  // It runs a job on the machine and hands out a file's contents.
  "GET /api/repositories/:id/archives/:archive/download": "operator",
  "POST /api/repositories/:id/init": "operator",
  "POST /api/repositories/:id/backup": "operator",
  "POST /api/repositories/:id/check": "operator",
  "POST /api/repositories/:id/prune": "operator",
  "POST /api/repositories/:id/compact": "operator",
  "POST /api/repositories/:id/break-lock": "operator",
  "POST /api/repositories/:id/list": "operator",

  // A plan only times jobs an operator may queue by hand (routes/plans.ts says why).
  "GET /api/plans": "viewer",
  "GET /api/plans/preview": "viewer",
  "POST /api/plans": "operator",
  "GET /api/plans/:id": "viewer",
  "PATCH /api/plans/:id": "operator",
  "DELETE /api/plans/:id": "operator",
  "POST /api/plans/:id/run": "operator",

  // Channels hold other systems' credentials and decide where fleet facts go.
  "GET /api/notification-channels": "admin",
  "POST /api/notification-channels": "admin",
  "GET /api/notification-channels/:id": "admin",
  "PATCH /api/notification-channels/:id": "admin",
  "DELETE /api/notification-channels/:id": "admin",
  "POST /api/notification-channels/:id/test": "admin",
  "GET /api/notification-channels/:id/deliveries": "admin",

  "GET /api/jobs": "viewer",
  "GET /api/jobs/:id": "viewer",
  "GET /api/jobs/:id/logs": "viewer",
  "POST /api/jobs/:id/cancel": "operator",
  "GET /api/jobs/:id/events": "viewer",

  // Prometheus: a viewer's credential (or the metrics token, metrics.test.ts); never anonymous.
  "GET /metrics": "viewer",
};

/** Routes anyone may call, each with the reason. */
const PUBLIC: Record<string, string> = {
  "GET /api/health": "liveness for load balancers and install.sh; says only ok and the version",
  "POST /api/auth/login": "how a user gets a credential in the first place (rate limited)",
  "POST /api/agents/register":
    "how an agent gets its credential: the one-use enrollment token in the body is the authorization",
};

const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };
const ROLES: Role[] = ["viewer", "operator", "admin"];
const VIAS = ["session", "api_token"] as const;

/** Routes whose call uses up the caller's own credential: they get a fresh one. */
const CONSUMES_CALLER = new Set(["POST /api/auth/logout", "POST /api/agents/unregister"]);

const hub = createTestHub();
// The route table of the app the hub serves, read before any test so tests can be made per route.
const ROUTES = routeTableOf(hub);
let world: World;
let revokedAgent: TestAgent;

beforeAll(async () => {
  world = await createWorld(hub);
  revokedAgent = await addAgentMachine(hub, { status: "revoked" });
}, 60_000);
afterAll(async () => {
  await world?.close();
  hub.close();
});

const split = (key: string) => {
  const space = key.indexOf(" ");
  return { method: key.slice(0, space), route: key.slice(space + 1) };
};

interface NamedCaller {
  name: string;
  caller: Caller;
  options: RequestOptions;
}

const userCaller = (role: Role, via: (typeof VIAS)[number], token: string): NamedCaller => ({
  name: `${role} ${via}`,
  caller: { kind: "user", credential: { role, via, token } },
  options: { token },
});

const userCallers = (): NamedCaller[] =>
  ROLES.flatMap((role) =>
    VIAS.map((via) =>
      userCaller(role, via, via === "session" ? world.sessions[role] : world.apiTokens[role]),
    ),
  );

const agentCaller = (name: string, agent: TestAgent): NamedCaller => ({
  name,
  caller: { kind: "agent", agent },
  options: { agentToken: agent.token },
});

interface Refusal extends NamedCaller {
  status: 401 | 403 | 404;
}

/** Every caller that must be refused on `key`, with the answer it must get. */
function refusals(key: string): Refusal[] {
  const min = MIN_ROLE[key] as Role | "agent";
  const none: Refusal = {
    name: "no credential",
    caller: { kind: "none" },
    options: {},
    status: 401,
  };
  if (min === "agent") {
    const wrongKind = userCallers().flatMap((u): Refusal[] => [
      // A user credential where the agent's goes, and as the user API's Bearer token.
      {
        ...u,
        name: `${u.name} as agent credential`,
        options: { agentToken: u.options.token },
        status: 401,
      },
      { ...u, name: `${u.name} as Bearer`, status: 401 },
    ]);
    const list: Refusal[] = [
      none,
      ...wrongKind,
      { ...agentCaller("revoked agent", revokedAgent), status: 401 },
    ];
    // Another agent's job: 404, so it does not learn that the job exists.
    if (split(key).route.startsWith("/api/agents/jobs/:id")) {
      list.push({ ...agentCaller("another agent", world.otherAgent), status: 404 });
    }
    return list;
  }
  return [
    none,
    { ...agentCaller("agent credential", world.agent), status: 401 },
    {
      ...agentCaller("agent credential as Bearer", world.agent),
      options: { token: world.agent.token },
      status: 401,
    },
    ...userCallers()
      .filter(
        (u) => u.caller.kind === "user" && ROLE_RANK[u.caller.credential.role] < ROLE_RANK[min],
      )
      .map((u) => ({ ...u, status: 403 as const })),
  ];
}

/** Every caller that must be let in on `key` (fresh credentials where the call uses them up). */
async function admissions(key: string): Promise<NamedCaller[]> {
  const min = MIN_ROLE[key] as Role | "agent";
  if (min === "agent") {
    const agent = CONSUMES_CALLER.has(key) ? await addAgentMachine(hub) : world.agent;
    return [agentCaller("agent", agent)];
  }
  const allowed = ROLES.filter((role) => ROLE_RANK[role] >= ROLE_RANK[min]);
  const callers: NamedCaller[] = [];
  for (const role of allowed) {
    for (const via of VIAS) {
      callers.push(
        CONSUMES_CALLER.has(key)
          ? userCaller(role, via, await world.freshCredential(role, via))
          : userCaller(role, via, via === "session" ? world.sessions[role] : world.apiTokens[role]),
      );
    }
  }
  return callers;
}

const send = (method: string, call: Call, options: RequestOptions): Promise<TestResponse> =>
  hub.request(method, call.path, { ...options, body: call.body });

describe("the route table is classified", () => {
  test("every registered route is in MIN_ROLE, PUBLIC or NOT_API, and every entry is a route", () => {
    const classified = new Set([
      ...Object.keys(MIN_ROLE),
      ...Object.keys(PUBLIC),
      ...Object.keys(NOT_API),
    ]);
    expect(ROUTES.filter((key) => !classified.has(key))).toEqual([]);
    expect([...classified].filter((key) => !ROUTES.includes(key))).toEqual([]);
    // Sanity: the route table is the real one (a broken read would make this suite vacuous).
    expect(ROUTES.length).toBeGreaterThan(40);
  });

  test("every API route has a call with real ids and a valid body", () => {
    const api = ROUTES.filter((key) => !(key in NOT_API));
    expect(api.filter((key) => !(key in ROUTE_CALLS))).toEqual([]);
    expect(Object.keys(ROUTE_CALLS).filter((key) => !ROUTES.includes(key))).toEqual([]);
  });
});

describe("public routes answer without a credential", () => {
  for (const key of ROUTES.filter((k) => k in PUBLIC)) {
    test(`${key} (${PUBLIC[key]})`, async () => {
      const { method } = split(key);
      const call = await (ROUTE_CALLS[key] as NonNullable<(typeof ROUTE_CALLS)[string]>)(world, {
        kind: "none",
      });
      const response = await send(method, call, {});
      expect({
        key,
        status: response.status,
        text: response.status < 300 ? "" : response.text,
      }).toEqual({
        key,
        status: 200,
        text: "",
      });
    });
  }
});

describe("every protected route against every caller", () => {
  for (const key of ROUTES.filter((k) => k in MIN_ROLE)) {
    test(`${key} needs ${MIN_ROLE[key]}`, async () => {
      const { method } = split(key);
      const call = ROUTE_CALLS[key];
      if (!call) throw new Error(`no call for ${key}`);
      const problems: string[] = [];

      // The refused callers get a target that an allowed caller would really act on, so
      // a 401/403/404 is the guard's doing, not a missing id's.
      const owner: Caller =
        MIN_ROLE[key] === "agent"
          ? { kind: "agent", agent: world.agent }
          : {
              kind: "user",
              credential: { role: "admin", via: "session", token: world.sessions.admin },
            };
      const target = await call(world, owner);
      const before = await databaseSnapshot(hub);
      for (const refused of refusals(key)) {
        const response = await send(method, target, refused.options);
        const code = ErrorBody.safeParse(response.body);
        if (response.status !== refused.status || !code.success) {
          problems.push(
            `${refused.name}: expected ${refused.status}, got ${response.status} ${response.text.slice(0, 200)}`,
          );
        }
      }
      const after = await databaseSnapshot(hub);
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        const changed = Object.keys(after).filter(
          (t) => JSON.stringify(after[t]) !== JSON.stringify(before[t]),
        );
        problems.push(`refused calls changed the database: ${changed.join(", ")}`);
      }

      for (const allowed of await admissions(key)) {
        const response = await send(method, await call(world, allowed.caller), allowed.options);
        if (response.status < 200 || response.status >= 300) {
          problems.push(
            `${allowed.name}: expected 2xx, got ${response.status} ${response.text.slice(0, 200)}`,
          );
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

describe("repository settings by role", () => {
  /** A valid new value for every PATCH field; the test fails for a field missing here. */
  const VALUES: Record<string, () => unknown> = {
    name: () => `renamed-${Math.random().toString(36).slice(2, 8)}`,
    passphrase: () => "another passphrase entirely",
    source_paths: () => ["/etc/shadow"],
    optional_source_paths: () => ["/root/.ssh"],
    exclude_patterns: () => ["*.key"],
    compression: () => "zstd,7",
    archive_name: () => "{hostname}-manual-{now}",
    expected_interval_seconds: () => 7200,
    overdue_factor: () => 3,
    ssh_host_key: () =>
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
  };
  /** What an operator may change; every other field is the admin's. */
  const OPERATOR_MAY = new Set([
    "compression",
    "archive_name",
    "expected_interval_seconds",
    "overdue_factor",
  ]);
  const FIELDS = Object.keys(UpdateRepositoryRequest.shape);

  const patch = (token: string, id: number, body: Record<string, unknown>) =>
    hub.request("PATCH", `/api/repositories/${id}`, { token, body });

  test("every PATCH field has a value here", () => {
    expect(FIELDS.filter((f) => !(f in VALUES))).toEqual([]);
    expect(Object.keys(VALUES).filter((f) => !FIELDS.includes(f))).toEqual([]);
  });

  test("an operator may change only compression, archive_name and the overdue settings; admin-only fields are 403 by name, nothing changes", async () => {
    const id = await world.freshRepository();
    // An admin's API token with the operator role acts as an operator.
    const adminAsOperator = (
      await hub.request("POST", "/api/tokens", {
        token: world.sessions.admin,
        body: { name: "admin-as-operator", role: "operator" },
      })
    ).body as { token: string };
    await warmUp(hub, adminAsOperator.token);
    const operators = [world.sessions.operator, world.apiTokens.operator, adminAsOperator.token];
    for (const field of FIELDS) {
      for (const token of operators) {
        const value = VALUES[field]?.();
        const before = await databaseSnapshot(hub);
        const response = await patch(token, id, { [field]: value });
        if (OPERATOR_MAY.has(field)) {
          expect({ field, status: response.status }).toEqual({ field, status: 200 });
          expect((Repository.parse(response.body) as Record<string, unknown>)[field]).toEqual(
            value,
          );
        } else {
          expect({ field, status: response.status }).toEqual({ field, status: 403 });
          const error = ErrorBody.parse(response.body);
          expect(error.code).toBe("forbidden");
          expect(error.error).toContain(field);
          expect(await databaseSnapshot(hub)).toEqual(before);
        }
      }
      // The same value from an admin is accepted: the operator's 403 was the role, not the value.
      const value = VALUES[field]?.();
      const byAdmin = await patch(world.sessions.admin, id, { [field]: value });
      expect({ field, status: byAdmin.status }).toEqual({ field, status: 200 });
    }
  });

  test("a mixed PATCH from an operator is refused whole: the harmless field is not applied either", async () => {
    const id = await world.freshRepository();
    const before = await databaseSnapshot(hub);
    const response = await patch(world.sessions.operator, id, {
      compression: "zstd,9",
      source_paths: ["/root"],
      exclude_patterns: [],
    });
    expect(response.status).toBe(403);
    const error = ErrorBody.parse(response.body);
    expect(error.error).toContain("source_paths");
    expect(error.error).toContain("exclude_patterns");
    expect(error.details).toEqual([
      { path: "exclude_patterns", message: "only an admin may change this" },
      { path: "source_paths", message: "only an admin may change this" },
    ]);
    expect(await databaseSnapshot(hub)).toEqual(before);
    const stored = Repository.parse(
      (await hub.request("GET", `/api/repositories/${id}`, { token: world.sessions.viewer })).body,
    );
    expect(stored.compression).not.toBe("zstd,9");
  });

  test("an operator may not create or delete a repository; a viewer may not patch even harmless fields", async () => {
    const id = await world.freshRepository();
    const create = await ROUTE_CALLS["POST /api/repositories"]?.(world, { kind: "none" });
    const before = await databaseSnapshot(hub);
    for (const token of [world.sessions.operator, world.apiTokens.operator]) {
      expect((await send("POST", create as Call, { token })).status).toBe(403);
      expect((await hub.request("DELETE", `/api/repositories/${id}`, { token })).status).toBe(403);
    }
    expect((await patch(world.sessions.viewer, id, { compression: "lz4" })).status).toBe(403);
    expect(await databaseSnapshot(hub)).toEqual(before);
  });
});
