/**
 * The hub's routes as the security suites see them (test/integration/server/authz-matrix
 * and bad-input): every "METHOD path" the real app registers, read from Hono's
 * `app.routes` so a new route shows up without anyone adding it; the entries that are not
 * API routes (middleware, the embedded UI), each with a reason; and a World of real
 * fixtures with, for every route, a call that makes its handler run: a fresh target in
 * the state the route needs (a queued job for claim, a running one for progress, a
 * repository nobody else uses for delete, …) and a valid body. Also a snapshot of every
 * table, read through bun:sqlite, to prove that a refused request changed nothing.
 */
import type { Hono } from "hono";
import { createApp } from "../../src/server/app.ts";
import type { HubEnv } from "../../src/server/http/context.ts";
import { PROTOCOL_VERSION } from "../../src/shared/protocol/version.ts";
import { startHttpOnlyBox } from "./box.ts";
import { createTestHub, type TestHub } from "./hub.ts";
import { addAgentMachine, createRepository, type TestAgent } from "./hub-fixtures.ts";

export type Role = "admin" | "operator" | "viewer";

/**
 * Every distinct "METHOD path" in the app's route table. Hono lists one entry per handler
 * (each middleware of a route too), so entries repeat; the order is registration order.
 */
export function routeKeys(app: Hono<HubEnv>): string[] {
  return [...new Set(app.routes.map((r) => `${r.method} ${r.path}`))];
}

/** The app the suites read the route table from: built as TestHub builds its own. */
export function routeTableOf(hub: TestHub): string[] {
  return routeKeys(createApp(hub.deps));
}

/**
 * Entries of app.routes that are not API endpoints, so neither suite calls them as one.
 * Named one by one: anything else that appears must be classified by the suites.
 */
export const NOT_API: Record<string, string> = {
  "ALL /*":
    "middleware (the edge: request id + access log, request count, security headers), not an endpoint",
  "ALL /api/*": "middleware (CSRF check, body limit), not an endpoint",
  "GET /assets/:file": "the embedded UI's static files: public by design, no data",
  "GET /*": "the UI's SPA fallback (index.html; /api/* answers 404): public by design",
};

export const USER_PASSWORD = "route-catalog-user-password";

export interface Credential {
  role: Role;
  via: "session" | "api_token";
  token: string;
}

export interface World {
  hub: TestHub;
  usernames: Record<Role, string>;
  sessions: Record<Role, string>;
  apiTokens: Record<Role, string>;
  /** The agent whose jobs the runtime routes act on, and one that must not see them. */
  agent: TestAgent;
  otherAgent: TestAgent;
  /** A repository of `agent`'s machine that reads and jobs use; never deleted. */
  repositoryId: number;
  /** A user that PATCH /api/users/{id} changes (to viewer, again and again). */
  victimUserId: number;
  /** A job of `agent` in the given state, made for this one call. */
  job(state: JobState, agent?: TestAgent): Promise<number>;
  /** A fresh credential of `role`, for routes that use up the caller's (logout). */
  freshCredential(role: Role, via: "session" | "api_token"): Promise<string>;
  freshRepository(): Promise<number>;
  /** A running archive.browse job of `agent` (for its listing uploads). */
  browseJob(): Promise<number>;
  /** An archive of `repositoryId` whose listing the hub has cached (made once). */
  cachedArchive(): Promise<string>;
  /** A running archive.download job of `agent`, whose browser waits (for its chunk uploads). */
  downloadJob(): Promise<number>;
  /** A plan that reads and PATCH use; never deleted. */
  planId: number;
  /** A new plan, on a repository of its own (its run queues that repository's one backup). */
  freshPlan(): Promise<number>;
  /** A notification channel that reads and PATCH use; never deleted. */
  channelId: number;
  freshChannel(): Promise<number>;
  freshUser(): Promise<number>;
  freshMachine(status?: "online" | "disabled"): Promise<number>;
  freshEnrollmentToken(): Promise<{ id: number; token: string }>;
  /** A real box (HTTP only) registered once; `boxId` is read and changed, never deleted. */
  box: { url: string; token: string };
  boxId: number;
  /** A new registration of the same box, for DELETE. */
  freshBox(): Promise<number>;
  /** Stops what the world started (the box). */
  close(): Promise<void>;
}

export type JobState = "queued" | "claimed" | "running" | "cancel_requested" | "canceled";

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

function expectStatus(response: { status: number; text: string }, status: number, what: string) {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${response.text}`);
  }
}

/** Uses a credential once (see createWorld: its last_used_at is then set for good). */
export async function warmUp(hub: TestHub, token: string): Promise<void> {
  expectStatus(await hub.request("GET", "/api/auth/me", { token }), 200, "warm up a credential");
}

export async function createWorld(hub: TestHub = createTestHub()): Promise<World> {
  const admin = await hub.login();
  const usernames = { admin: "admin" } as Record<Role, string>;
  const sessions = { admin } as Record<Role, string>;
  for (const role of ["operator", "viewer"] as const) {
    usernames[role] = unique(`catalog-${role}`);
    const created = await hub.request("POST", "/api/users", {
      token: admin,
      body: { username: usernames[role], password: USER_PASSWORD, role },
    });
    expectStatus(created, 201, `create ${role}`);
    sessions[role] = await hub.login(usernames[role], USER_PASSWORD);
  }
  const apiToken = async (session: string) => {
    const created = await hub.request("POST", "/api/tokens", {
      token: session,
      body: { name: unique("catalog-token") },
    });
    expectStatus(created, 201, "create API token");
    return (created.body as { token: string }).token;
  };
  const apiTokens = {} as Record<Role, string>;
  for (const role of ["admin", "operator", "viewer"] as const) {
    apiTokens[role] = await apiToken(sessions[role]);
  }
  // Every use of a credential writes its last_used_at. The test hub's clock stands still,
  // so after this first use later ones write the same value and snapshots stay equal.
  for (const token of [...Object.values(sessions), ...Object.values(apiTokens)]) {
    await warmUp(hub, token);
  }

  const agent = await addAgentMachine(hub);
  const otherAgent = await addAgentMachine(hub);
  const repositoryFor = new Map<number, number>();
  const freshRepository = async (machineId = agent.machineId) =>
    (await createRepository(hub, admin, machineId, { name: unique("catalog-repo") })).id;
  const repositoryId = await freshRepository();
  repositoryFor.set(agent.machineId, repositoryId);

  const freshPlan = async (repository?: number) => {
    const created = await hub.request("POST", "/api/plans", {
      token: admin,
      body: {
        repository_id: repository ?? (await freshRepository()),
        schedule: "0 2 * * *",
        timezone: "Europe/Berlin",
      },
    });
    expectStatus(created, 201, "create plan");
    return (created.body as { id: number }).id;
  };
  const planId = await freshPlan(repositoryId);

  const box = await startHttpOnlyBox();
  const freshBox = async () => {
    const created = await hub.request("POST", "/api/boxes", {
      token: admin,
      body: { name: unique("catalog-box"), url: box.url, token: box.token },
    });
    expectStatus(created, 201, "register box");
    return (created.body as { id: number }).id;
  };
  const boxId = await freshBox();
  const freshChannel = async () => {
    const created = await hub.request("POST", "/api/notification-channels", {
      token: admin,
      body: {
        name: unique("catalog-channel"),
        type: "webhook",
        config: { url: "http://127.0.0.1:9/hook", secret: "catalog-webhook-secret" },
        events: ["job.failed"],
      },
    });
    expectStatus(created, 201, "create notification channel");
    return (created.body as { id: number }).id;
  };
  const channelId = await freshChannel();

  const freshUser = async () => {
    const created = await hub.request("POST", "/api/users", {
      token: admin,
      body: { username: unique("catalog-victim"), password: USER_PASSWORD, role: "viewer" },
    });
    expectStatus(created, 201, "create user");
    return (created.body as { id: number }).id;
  };
  const victimUserId = await freshUser();

  const runtime = (a: TestAgent, method: string, path: string, body?: unknown) =>
    hub.request(method, `/api/agents/jobs${path}`, { agentToken: a.token, body });

  const job = async (state: JobState, owner = agent) => {
    let repo = repositoryFor.get(owner.machineId);
    if (repo === undefined) {
      repo = await freshRepository(owner.machineId);
      repositoryFor.set(owner.machineId, repo);
    }
    // Checks may pile up on one repository (a second backup would be refused).
    const queued = await hub.request("POST", `/api/repositories/${repo}/check`, {
      token: sessions.operator,
    });
    expectStatus(queued, 202, "queue a check");
    const id = (queued.body as { job_id: number }).job_id;
    if (state === "canceled") {
      expectStatus(
        await hub.request("POST", `/api/jobs/${id}/cancel`, { token: sessions.operator }),
        202,
        "cancel",
      );
      return id;
    }
    if (state === "queued") return id;
    expectStatus(await runtime(owner, "POST", `/${id}/claim`), 200, "claim");
    if (state === "claimed") return id;
    expectStatus(await runtime(owner, "POST", `/${id}/start`, {}), 200, "start");
    if (state === "cancel_requested") {
      expectStatus(
        await hub.request("POST", `/api/jobs/${id}/cancel`, { token: sessions.operator }),
        202,
        "cancel",
      );
    }
    return id;
  };

  // A browse is queued by a tree request for an archive the hub has not listed yet.
  const browseJob = async (archive = unique("catalog-archive")) => {
    // Other calls may have heartbeated other capabilities: the hub queues a browse only to
    // an agent that names the kind.
    expectStatus(
      await hub.request("POST", "/api/agents/heartbeat", {
        agentToken: agent.token,
        body: {
          agent_id: agent.agentId,
          protocol_version: PROTOCOL_VERSION,
          capabilities: ["backup.create", "archive.browse", "archive.extract", "archive.download"],
          running_job_ids: [],
        },
      }),
      200,
      "heartbeat",
    );
    const queued = await hub.request(
      "GET",
      `/api/repositories/${repositoryId}/archives/${archive}/tree`,
      { token: sessions.operator },
    );
    expectStatus(queued, 202, "queue a browse");
    const id = (queued.body as { job_id: number }).job_id;
    expectStatus(await runtime(agent, "POST", `/${id}/claim`), 200, "claim");
    expectStatus(await runtime(agent, "POST", `/${id}/start`, {}), 200, "start");
    return id;
  };
  let cached: Promise<string> | undefined;
  const cachedArchive = () => {
    cached ??= (async () => {
      const archive = unique("cached-archive");
      const id = await browseJob(archive);
      const entries = [
        { path: "home/u/a.txt", type: "file", size: 3, mtime: null, mode: null },
        // Downloaded at once, with no job (nothing to ask borg for).
        { path: "home/u/empty.txt", type: "file", size: 0, mtime: null, mode: null },
      ];
      expectStatus(
        await runtime(agent, "POST", `/${id}/listing`, { sequence: 0, entries }),
        200,
        "listing",
      );
      expectStatus(
        await runtime(agent, "POST", `/${id}/complete`, {
          result: { return_code: 0, entry_count: 2, chunk_count: 1 },
        }),
        200,
        "complete",
      );
      return archive;
    })();
    return cached;
  };

  // A running download of home/u/a.txt (3 bytes): the user's request waits for its bytes.
  const downloadJob = async () => {
    const archive = await cachedArchive();
    void hub.request(
      "GET",
      `/api/repositories/${repositoryId}/archives/${archive}/download?path=/home/u/a.txt`,
      { token: sessions.operator },
    );
    for (;;) {
      // Newest first: other queued jobs of this agent may be many (a poll shows the oldest).
      const jobs = (
        await hub.request("GET", `/api/jobs?status=queued&agent_machine_id=${agent.machineId}`, {
          token: sessions.operator,
        })
      ).body as { id: number; type: string }[];
      const found = jobs.find((j) => j.type === "archive.download");
      if (found) {
        expectStatus(await runtime(agent, "POST", `/${found.id}/claim`), 200, "claim");
        expectStatus(await runtime(agent, "POST", `/${found.id}/start`, {}), 200, "start");
        return found.id;
      }
      await Bun.sleep(5);
    }
  };

  return {
    hub,
    usernames,
    sessions,
    apiTokens,
    agent,
    otherAgent,
    repositoryId,
    victimUserId,
    job,
    box,
    boxId,
    freshBox,
    close: () => box.stop(),
    browseJob,
    cachedArchive,
    downloadJob,
    async freshCredential(role, via) {
      const session = await hub.login(
        usernames[role],
        role === "admin" ? undefined : USER_PASSWORD,
      );
      const token = via === "session" ? session : await apiToken(session);
      await warmUp(hub, token);
      return token;
    },
    freshRepository: () => freshRepository(),
    planId,
    freshPlan: () => freshPlan(),
    channelId,
    freshChannel,
    freshUser,
    async freshMachine(status = "online") {
      return (await addAgentMachine(hub, { status })).machineId;
    },
    async freshEnrollmentToken() {
      const created = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
        token: admin,
        body: { name: unique("catalog-enroll"), expires_in_minutes: 60 },
      });
      expectStatus(created, 201, "create enrollment token");
      return created.body as { id: number; token: string };
    },
  };
}

/** Who calls: a user credential, an agent credential, or nobody. */
export type Caller =
  | { kind: "none" }
  | { kind: "user"; credential: Credential }
  | { kind: "agent"; agent: TestAgent };

export interface Call {
  path: string;
  body?: unknown;
}

type CallFor = (w: World, caller: Caller) => Promise<Call>;

const fixed =
  (path: string, body?: unknown): CallFor =>
  async () => ({ path, body });

const userToken = (caller: Caller): string => {
  if (caller.kind !== "user") throw new Error("this call needs a user caller");
  return caller.credential.token;
};

const agentLogEntry = () => ({
  sequence: 0,
  stream: "stderr",
  message: "a log line",
  created_at: new Date().toISOString(),
});

/**
 * For every API route: a call with real ids and a valid body, so that a caller who is
 * allowed gets past authentication and validation into the handler (and, mostly, a 2xx).
 * Calls that use something up get a fresh target each time.
 */
export const ROUTE_CALLS: Record<string, CallFor> = {
  "GET /api/health": fixed("/api/health"),
  "POST /api/auth/login": async (w) => ({
    path: "/api/auth/login",
    body: { username: w.usernames.viewer, password: USER_PASSWORD },
  }),
  "POST /api/auth/logout": fixed("/api/auth/logout"),
  "GET /api/auth/me": fixed("/api/auth/me"),

  "GET /api/users": fixed("/api/users"),
  "POST /api/users": async () => ({
    path: "/api/users",
    body: { username: unique("catalog-new"), password: USER_PASSWORD, role: "viewer" },
  }),
  "PATCH /api/users/:id": async (w) => ({
    path: `/api/users/${w.victimUserId}`,
    body: { role: "viewer" },
  }),
  "DELETE /api/users/:id": async (w) => ({ path: `/api/users/${await w.freshUser()}` }),

  "GET /api/tokens": fixed("/api/tokens"),
  "POST /api/tokens": async () => ({ path: "/api/tokens", body: { name: unique("token") } }),
  // The caller's own token: users revoke their own (the route is for any user).
  "DELETE /api/tokens/:id": async (w, caller) => {
    const created = await w.hub.request("POST", "/api/tokens", {
      token: caller.kind === "user" ? userToken(caller) : w.sessions.viewer,
      body: { name: unique("to-revoke") },
    });
    return { path: `/api/tokens/${(created.body as { id: number }).id}` };
  },

  "GET /api/audit": fixed("/api/audit?limit=5"),

  "POST /api/managed-machines/enrollment-tokens": async () => ({
    path: "/api/managed-machines/enrollment-tokens",
    body: { name: unique("enroll"), expires_in_minutes: 30 },
  }),
  "GET /api/managed-machines/enrollment-tokens": fixed("/api/managed-machines/enrollment-tokens"),
  "DELETE /api/managed-machines/enrollment-tokens/:id": async (w) => ({
    path: `/api/managed-machines/enrollment-tokens/${(await w.freshEnrollmentToken()).id}`,
  }),
  "GET /api/boxes": fixed("/api/boxes"),
  "POST /api/boxes": async (w) => ({
    path: "/api/boxes",
    body: { name: unique("box"), url: w.box.url, token: w.box.token },
  }),
  "GET /api/boxes/:id": async (w) => ({ path: `/api/boxes/${w.boxId}` }),
  "PATCH /api/boxes/:id": async (w) => ({
    path: `/api/boxes/${w.boxId}`,
    body: { ssh_port: 2222 },
  }),
  "DELETE /api/boxes/:id": async (w) => ({ path: `/api/boxes/${await w.freshBox()}` }),
  "GET /api/boxes/:id/repos": async (w) => ({ path: `/api/boxes/${w.boxId}/repos` }),
  "GET /api/managed-machines": fixed("/api/managed-machines"),
  "GET /api/managed-machines/:id": async (w) => ({
    path: `/api/managed-machines/${w.agent.machineId}`,
  }),
  "PATCH /api/managed-machines/:id": async (w) => ({
    path: `/api/managed-machines/${await w.freshMachine()}`,
    body: { name: unique("renamed"), labels: { site: "home" } },
  }),
  "POST /api/managed-machines/:id/disable": async (w) => ({
    path: `/api/managed-machines/${await w.freshMachine()}/disable`,
  }),
  "POST /api/managed-machines/:id/enable": async (w) => ({
    path: `/api/managed-machines/${await w.freshMachine("disabled")}/enable`,
  }),
  "POST /api/managed-machines/:id/revoke": async (w) => ({
    path: `/api/managed-machines/${await w.freshMachine()}/revoke`,
  }),
  "DELETE /api/managed-machines/:id": async (w) => ({
    path: `/api/managed-machines/${await w.freshMachine()}`,
  }),

  "POST /api/agents/register": async (w) => ({
    path: "/api/agents/register",
    body: {
      enrollment_token: (await w.freshEnrollmentToken()).token,
      protocol_version: PROTOCOL_VERSION,
      hostname: "registered.test",
      os: "linux",
      arch: "x64",
      agent_version: "0.0.0-test",
      borg_versions: [{ major: 1, version: "1.2.4", path: "/usr/bin/borg" }],
      capabilities: ["backup.create"],
    },
  }),
  "POST /api/agents/heartbeat": async (w, caller) => ({
    path: "/api/agents/heartbeat",
    body: {
      agent_id: caller.kind === "agent" ? caller.agent.agentId : w.agent.agentId,
      protocol_version: PROTOCOL_VERSION,
      running_job_ids: [],
    },
  }),
  "POST /api/agents/unregister": fixed("/api/agents/unregister"),
  "GET /api/agents/jobs/poll": fixed("/api/agents/jobs/poll?limit=1&wait=0"),
  "GET /api/agents/jobs/:id": async (w) => ({
    path: `/api/agents/jobs/${await w.job("queued")}`,
  }),
  "POST /api/agents/jobs/:id/claim": async (w) => ({
    path: `/api/agents/jobs/${await w.job("queued")}/claim`,
  }),
  "POST /api/agents/jobs/:id/start": async (w) => ({
    path: `/api/agents/jobs/${await w.job("claimed")}/start`,
    body: {},
  }),
  "POST /api/agents/jobs/:id/progress": async (w) => ({
    path: `/api/agents/jobs/${await w.job("running")}/progress`,
    body: { progress_percent: 10, current_file: "/home/a", nfiles: 1, phase: "scan" },
  }),
  "POST /api/agents/jobs/:id/logs": async (w) => ({
    path: `/api/agents/jobs/${await w.job("running")}/logs`,
    body: agentLogEntry(),
  }),
  "POST /api/agents/jobs/:id/listing": async (w) => ({
    path: `/api/agents/jobs/${await w.browseJob()}/listing`,
    body: {
      sequence: 0,
      entries: [{ path: "etc/hosts", type: "file", size: 9, mtime: null, mode: null }],
    },
  }),
  "POST /api/agents/jobs/:id/download": async (w) => ({
    path: `/api/agents/jobs/${await w.downloadJob()}/download?offset=0`,
    body: "abc",
  }),
  "POST /api/agents/jobs/:id/complete": async (w) => ({
    path: `/api/agents/jobs/${await w.job("running")}/complete`,
    body: { result: { return_code: 0 } },
  }),
  "POST /api/agents/jobs/:id/fail": async (w) => ({
    path: `/api/agents/jobs/${await w.job("running")}/fail`,
    body: { error_message: "borg failed", return_code: 2 },
  }),
  "POST /api/agents/jobs/:id/canceled": async (w) => ({
    path: `/api/agents/jobs/${await w.job("cancel_requested")}/canceled`,
    body: { return_code: null },
  }),
  // The spec's name for the same report (and the same handler).
  "POST /api/agents/jobs/:id/cancel": async (w) => ({
    path: `/api/agents/jobs/${await w.job("cancel_requested")}/cancel`,
    body: { return_code: null },
  }),

  "GET /api/repositories": fixed("/api/repositories"),
  "POST /api/repositories": async (w) => ({
    path: "/api/repositories",
    body: {
      name: unique("created"),
      agent_machine_id: w.agent.machineId,
      location: `/srv/borg/${unique("created")}`,
      passphrase: "a passphrase for a created repository",
      source_paths: ["/home"],
    },
  }),
  "GET /api/repositories/:id": async (w) => ({ path: `/api/repositories/${w.repositoryId}` }),
  // compression is a field operators may change, so every role allowed the route succeeds.
  "PATCH /api/repositories/:id": async (w) => ({
    path: `/api/repositories/${w.repositoryId}`,
    body: { compression: "zstd,3" },
  }),
  "DELETE /api/repositories/:id": async (w) => ({
    path: `/api/repositories/${await w.freshRepository()}`,
  }),
  "GET /api/repositories/:id/archives": async (w) => ({
    path: `/api/repositories/${w.repositoryId}/archives`,
  }),
  // A cached archive: a viewer reads it (listing an uncached one needs an operator).
  "GET /api/repositories/:id/archives/:archive/tree": async (w) => ({
    path: `/api/repositories/${w.repositoryId}/archives/${await w.cachedArchive()}/tree?path=/home`,
  }),
  // An empty file: answered from the listing at once (a real one waits for its agent).
  "GET /api/repositories/:id/archives/:archive/download": async (w) => ({
    path: `/api/repositories/${w.repositoryId}/archives/${await w.cachedArchive()}/download?path=/home/u/empty.txt`,
  }),
  "POST /api/repositories/:id/restore": async (w) => ({
    path: `/api/repositories/${w.repositoryId}/restore`,
    body: { archive: "catalog-archive", paths: ["home/u"], destination: "/srv/restore" },
  }),
  // A fresh repository each: a second backup of one repository would be a 409.
  ...Object.fromEntries(
    ["init", "backup", "check", "prune", "compact", "break-lock", "list"].map((action) => [
      `POST /api/repositories/:id/${action}`,
      async (w: World) => ({
        path: `/api/repositories/${await w.freshRepository()}/${action}`,
        body:
          action === "prune"
            ? { keep_daily: 7, dry_run: true }
            : action === "check"
              ? { verify_data: false }
              : {},
      }),
    ]),
  ),

  "GET /api/plans": async (w) => ({ path: `/api/plans?repository_id=${w.repositoryId}` }),
  "POST /api/plans": async (w) => ({
    path: "/api/plans",
    body: {
      repository_id: w.repositoryId,
      name: unique("plan"),
      schedule: "30 2 * * *",
      timezone: "Europe/Berlin",
      enabled: true,
      retention: { keep_daily: 7, keep_weekly: 4 },
      prune_after_backup: true,
      compact_every_days: 7,
      check_every_days: 30,
      check_verify_data: false,
      missed_run: "run_once",
      random_delay_seconds: 60,
    },
  }),
  "GET /api/plans/preview": async () => ({
    path: `/api/plans/preview?${new URLSearchParams({ schedule: "0 2 * * *", timezone: "Europe/Berlin" })}`,
  }),
  "GET /api/plans/:id": async (w) => ({ path: `/api/plans/${w.planId}` }),
  "PATCH /api/plans/:id": async (w) => ({
    path: `/api/plans/${w.planId}`,
    body: { schedule: "0 3 * * *", missed_run: "skip" },
  }),
  "DELETE /api/plans/:id": async (w) => ({ path: `/api/plans/${await w.freshPlan()}` }),
  // A fresh plan on a fresh repository each: a second backup of one repository is a 409.
  "POST /api/plans/:id/run": async (w) => ({ path: `/api/plans/${await w.freshPlan()}/run` }),

  "GET /api/notification-channels": fixed("/api/notification-channels"),
  "POST /api/notification-channels": async () => ({
    path: "/api/notification-channels",
    body: {
      name: unique("channel"),
      type: "ntfy",
      config: { url: "https://ntfy.example.com/backups", token: "tk_catalog", priority: 4 },
      events: ["job.failed", "repository.overdue"],
      enabled: true,
      cooldown_minutes: 30,
    },
  }),
  "GET /api/notification-channels/:id": async (w) => ({
    path: `/api/notification-channels/${w.channelId}`,
  }),
  "PATCH /api/notification-channels/:id": async (w) => ({
    path: `/api/notification-channels/${w.channelId}`,
    body: { events: ["job.failed", "machine.offline"], config: { secret: "set" } },
  }),
  "DELETE /api/notification-channels/:id": async (w) => ({
    path: `/api/notification-channels/${await w.freshChannel()}`,
  }),
  "POST /api/notification-channels/:id/test": async (w) => ({
    path: `/api/notification-channels/${w.channelId}/test`,
  }),
  "GET /api/notification-channels/:id/deliveries": async (w) => ({
    path: `/api/notification-channels/${w.channelId}/deliveries?limit=10`,
  }),
  "GET /metrics": fixed("/metrics"),

  "GET /api/jobs": fixed("/api/jobs?limit=5"),
  "GET /api/jobs/:id": async (w) => ({ path: `/api/jobs/${await w.job("queued")}` }),
  "GET /api/jobs/:id/logs": async (w) => ({ path: `/api/jobs/${await w.job("running")}/logs` }),
  "POST /api/jobs/:id/cancel": async (w) => ({
    path: `/api/jobs/${await w.job("queued")}/cancel`,
  }),
  // A finished job: its stream sends the history and ends, so the answer can be read whole.
  "GET /api/jobs/:id/events": async (w) => ({
    path: `/api/jobs/${await w.job("canceled")}/events`,
  }),
};

/**
 * Row count and a hash of every row of every table, keyed by table name, on either store
 * (the hub's own tables; SQLite's bookkeeping tables too). Rows are hashed in a sorted
 * order, so the snapshot does not depend on the order the database returns them in.
 */
export async function databaseSnapshot(
  hub: TestHub,
): Promise<Record<string, { rows: number; hash: string }>> {
  const tables = await hub.sql<{ name: string }>(
    hub.storeKind === "sqlite"
      ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
      : "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  const snapshot: Record<string, { rows: number; hash: string }> = {};
  for (const { name } of tables) {
    const rows = (await hub.sql(`SELECT * FROM "${name}"`)).map((row) => JSON.stringify(row));
    rows.sort();
    const hash = new Bun.CryptoHasher("sha256").update(rows.join("\n")).digest("hex");
    snapshot[name] = { rows: rows.length, hash };
  }
  return snapshot;
}
