/**
 * Two hub replicas on one PostgreSQL database, in one process: each is the real app on
 * its own createHubDeps, opened by start.ts's openHubDatabase (its own pool, its own
 * LISTEN connection), as two `borgctl server` processes would be. Shows that a long poll
 * held by replica A answers when a job is queued through replica B (LISTEN/NOTIFY, not
 * the poll timeout), that B's event bus follows progress and logs uploaded to A (an
 * oversized log line included), that a second start with another secret key is refused,
 * that the lease sweep run on both replicas at once records each expiry once, that a plan
 * backup's result delivered to both replicas at once chains one prune, and that
 * notifications published on both and sent by both reach a real receiver exactly once.
 * Latencies are printed, never asserted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../../src/server/app.ts";
import {
  SecretKeyMismatchError,
  verifySecretKey,
} from "../../../src/server/db/secret-key-check.ts";
import { createHubDeps, type HubDeps } from "../../../src/server/deps.ts";
import { bootstrapAdmin } from "../../../src/server/services/auth.ts";
import { publishHubEvent } from "../../../src/server/services/hub-events.ts";
import type { JobEvent } from "../../../src/server/services/job-events.ts";
import { runNotificationPass } from "../../../src/server/services/notification-sender.ts";
import { SecretBox } from "../../../src/server/services/secret-box.ts";
import { newPublicId, newToken } from "../../../src/server/services/tokens.ts";
import { type HubDatabase, openHubDatabase } from "../../../src/server/start.ts";
import { hubConfigSchema } from "../../../src/shared/config/hub.ts";
import { createLogger } from "../../../src/shared/log.ts";
import { JOB_KINDS, PLAN_PRUNE_CAPABILITY } from "../../../src/shared/protocol/agent.ts";
import { PROTOCOL_VERSION } from "../../../src/shared/protocol/version.ts";
import { ADMIN_PASSWORD, SECRET_KEY } from "../../helpers/hub.ts";
import { type PostgresCluster, startPostgres } from "../../helpers/postgres.ts";

let cluster: PostgresCluster;
const dirs: string[] = [];
const databases: HubDatabase[] = [];
const servers: ReturnType<typeof Bun.serve>[] = [];
beforeAll(async () => {
  cluster = await startPostgres();
}, 60_000);
afterAll(async () => {
  for (const server of servers.splice(0)) server.stop(true);
  for (const database of databases.splice(0)) await database.close();
  await cluster?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Response bodies are read field by field, as the JSON they are. */
// biome-ignore lint/suspicious/noExplicitAny: test-only view of response JSON
type Json = any;

interface Replica {
  name: string;
  deps: HubDeps;
  /** Serves the app on 127.0.0.1 (what another replica or a browser reaches); stopped in afterAll. */
  serve(): string;
  database: HubDatabase;
  request(
    method: string,
    path: string,
    opts?: { token?: string; agentToken?: string; body?: unknown },
  ): Promise<{ status: number; body: Json; text: string }>;
}

function configFor(url: string, secretKey = SECRET_KEY) {
  const dir = mkdtempSync(join(tmpdir(), "borgctl-replica-"));
  dirs.push(dir);
  return hubConfigSchema(dir, dir).parse({
    data_dir: dir,
    database_url: url,
    secret_key: secretKey,
  });
}

async function replica(name: string, url: string): Promise<Replica> {
  const logger = createLogger({ level: "warn", write: () => {} });
  const config = configFor(url);
  const database = await openHubDatabase(config, logger);
  databases.push(database);
  const secretBox = SecretBox.fromText(SECRET_KEY);
  await verifySecretKey(database.store, secretBox, Date.now());
  const deps = createHubDeps({
    store: database.store,
    logger,
    secretBox,
    notifier: database.notifier,
    events: database.events,
    credentials: database.credentials,
    downloadDirectory: database.downloads,
    sleep: async () => {},
    version: "0.0.0-test",
  });
  await bootstrapAdmin(deps, ADMIN_PASSWORD);
  const app = createApp(deps);
  return {
    name,
    deps,
    serve() {
      const server = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: (request, srv) => app.fetch(request, { ip: srv.requestIP(request)?.address }),
      });
      servers.push(server);
      return `http://127.0.0.1:${server.port}`;
    },
    database,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = {};
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.agentToken) headers["x-borg-agent-authorization"] = `Bearer ${opts.agentToken}`;
      if (opts.body !== undefined) headers["content-type"] = "application/json";
      const response = await app.request(
        path,
        { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) },
        { ip: "127.0.0.1" },
      );
      const text = await response.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {}
      return { status: response.status, body, text };
    },
  };
}

async function login(hub: Replica): Promise<string> {
  const response = await hub.request("POST", "/api/auth/login", {
    body: { username: "admin", password: ADMIN_PASSWORD },
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.text}`);
  return response.body.token;
}

async function addAgent(hub: Replica, capabilities = ["backup.create"]) {
  const { token, hash, prefix } = newToken("agent");
  const machine = await hub.deps.store.machines.insert({
    name: `machine-${crypto.randomUUID().slice(0, 6)}`,
    agentId: newPublicId("agt"),
    tokenHash: hash,
    tokenPrefix: prefix,
    hostname: "host.test",
    os: "linux",
    arch: "x64",
    agentVersion: "0.0.0-test",
    protocolVersion: PROTOCOL_VERSION,
    borgVersions: [{ major: 1, version: "1.2.4", path: "/usr/bin/borg" }],
    capabilities,
    sshPublicKey: null,
    status: "online",
  });
  return { machineId: machine.id, token };
}

/** A repository of `machineId` created through `hub`'s API, its passphrase held by the hub. */
async function addRepository(
  hub: Replica,
  token: string,
  machineId: number,
  name: string,
  sourcePaths = ["/etc"],
): Promise<number> {
  const created = await hub.request("POST", "/api/repositories", {
    token,
    body: {
      name,
      agent_machine_id: machineId,
      location: `/srv/borg/${name}`,
      passphrase: "a-passphrase-for-the-test",
      source_paths: sourcePaths,
    },
  });
  expect(created.status).toBe(201);
  return created.body.id as number;
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}

describe("two hub replicas on one PostgreSQL database", () => {
  test("a long poll on A wakes when a job is queued through B; B follows A's uploads", async () => {
    const url = await cluster.createDatabase("replicas");
    const [a, b] = await Promise.all([replica("A", url), replica("B", url)]);
    if (!a || !b) throw new Error("no replicas");
    const agent = await addAgent(a);
    const userOnB = await login(b);
    const repoId = await addRepository(b, userOnB, agent.machineId, "replicated");

    const latencies: number[] = [];
    for (let round = 0; round < 5; round++) {
      // The agent's poll, held by A for up to 25 s.
      const polling = a.request("GET", "/api/agents/jobs/poll?wait=25", {
        agentToken: agent.token,
      });
      await until(() => a.deps.notifier.waiting === 1, "the poll to wait on A");
      const queuedAt = performance.now();
      const queued = await b.request("POST", `/api/repositories/${repoId}/check`, {
        token: userOnB,
        body: {},
      });
      expect(queued.status).toBe(202);
      const poll = await polling;
      latencies.push(performance.now() - queuedAt);
      expect(poll.status).toBe(200);
      const jobId = queued.body.job_id;
      expect(poll.body.jobs.map((j: { id: number }) => j.id)).toContain(jobId);
      // Take it off the queue so the next round's poll waits again.
      await b.deps.store.jobs.cancelQueued(jobId, Date.now());
    }
    const sorted = [...latencies].sort((x, y) => x - y);
    console.log(
      `wake latency across replicas (queue on B → poll answered on A), 5 rounds: ${sorted.map((ms) => ms.toFixed(1)).join(", ")} ms (median ${sorted[2]?.toFixed(1)} ms)`,
    );

    // Live events: B's bus sees what A's agent uploads.
    const backup = await b.request("POST", `/api/repositories/${repoId}/backup`, {
      token: userOnB,
    });
    expect(backup.status).toBe(202);
    const jobId = backup.body.job_id as number;
    const seen: JobEvent[] = [];
    const unsubscribe = b.deps.events.subscribe(jobId, (event) => seen.push(event));
    const claimed = await a.request("POST", `/api/agents/jobs/${jobId}/claim`, {
      agentToken: agent.token,
    });
    expect(claimed.status).toBe(200);
    expect(
      (
        await a.request("POST", `/api/agents/jobs/${jobId}/start`, {
          agentToken: agent.token,
          body: {},
        })
      ).status,
    ).toBe(200);
    const sentAt = performance.now();
    const progress = await a.request("POST", `/api/agents/jobs/${jobId}/progress`, {
      agentToken: agent.token,
      body: { progress_percent: 42, current_file: "/etc/hosts", nfiles: 7 },
    });
    expect(progress.status).toBe(200);
    const long = "ü".repeat(5000); // 10 000 bytes: too large for one NOTIFY
    const logs = await a.request("POST", `/api/agents/jobs/${jobId}/logs`, {
      agentToken: agent.token,
      body: {
        entries: [
          {
            sequence: 1,
            stream: "stderr",
            message: "first line",
            created_at: new Date().toISOString(),
          },
          { sequence: 2, stream: "stderr", message: long, created_at: new Date().toISOString() },
          {
            sequence: 3,
            stream: "stdout",
            message: "third line",
            created_at: new Date().toISOString(),
          },
        ],
      },
    });
    expect(logs.status).toBe(200);
    await until(
      () =>
        seen.filter((e) => e.type === "log").length === 3 &&
        seen.some((e) => e.type === "progress"),
      "B to see A's progress and logs",
    );
    console.log(
      `event relay A → B (progress + 3 log lines): ${(performance.now() - sentAt).toFixed(1)} ms`,
    );
    unsubscribe();
    const progressEvent = seen.find((e) => e.type === "progress");
    expect(progressEvent?.data).toMatchObject({ progress_percent: 42, current_file: "/etc/hosts" });
    const logLines = seen
      .filter((e) => e.type === "log")
      .map((e) => e.data as { sequence: number; message: string });
    expect(logLines.map((l) => l.sequence).sort()).toEqual([1, 2, 3]);
    expect(logLines.find((l) => l.sequence === 2)?.message).toBe(long);
    // Nothing was delivered twice on A itself (its own echo is ignored).
    const onA: JobEvent[] = [];
    const offA = a.deps.events.subscribe(jobId, (event) => onA.push(event));
    await a.request("POST", `/api/agents/jobs/${jobId}/progress`, {
      agentToken: agent.token,
      body: { progress_percent: 50 },
    });
    await Bun.sleep(200);
    offA();
    expect(onA.filter((e) => e.type === "progress")).toHaveLength(1);
  });

  test("a credential disabled or revoked through B is refused by A, which had it verified", async () => {
    const url = await cluster.createDatabase("credentials");
    const [a, b] = await Promise.all([replica("A", url), replica("B", url)]);
    if (!a || !b) throw new Error("no replicas");
    const adminOnB = await login(b);
    const poll = (agentToken: string) =>
      a.request("GET", "/api/agents/jobs/poll?wait=0", { agentToken });
    for (const action of ["disable", "revoke"] as const) {
      const agent = await addAgent(a);
      // A verifies the credential and keeps it in memory: no lookup on the next request.
      expect((await poll(agent.token)).status).toBe(200);
      const verified = a.deps.credentials.size;
      expect(verified).toBeGreaterThan(0);
      const changed = await b.request(
        "POST",
        `/api/managed-machines/${agent.machineId}/${action}`,
        {
          token: adminOnB,
        },
      );
      expect(changed.status).toBe(200);
      // B's NOTIFY reaches A within milliseconds of the commit; then A refuses it.
      await until(
        () => a.deps.credentials.size < verified,
        `A to forget the ${action}d credential`,
      );
      const refused = await poll(agent.token);
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe("unauthorized");
    }
  });

  test("a cancel requested through B reaches the agent's next heartbeat on A", async () => {
    const url = await cluster.createDatabase("cancel_requests");
    const [a, b] = await Promise.all([replica("A", url), replica("B", url)]);
    if (!a || !b) throw new Error("no replicas");
    const agent = await addAgent(a);
    const agentId = (await a.deps.store.machines.byId(agent.machineId))?.agentId;
    const heartbeat = async () => {
      const answer = await a.request("POST", "/api/agents/heartbeat", {
        agentToken: agent.token,
        body: { agent_id: agentId, protocol_version: PROTOCOL_VERSION, running_job_ids: [] },
      });
      expect(answer.status).toBe(200);
      return answer.body.cancel_job_ids as number[];
    };
    const userOnB = await login(b);
    const repoId = await addRepository(b, userOnB, agent.machineId, "canceled");
    const queued = await b.request("POST", `/api/repositories/${repoId}/check`, {
      token: userOnB,
      body: {},
    });
    const jobId = queued.body.job_id as number;
    expect(
      (await a.request("POST", `/api/agents/jobs/${jobId}/claim`, { agentToken: agent.token }))
        .status,
    ).toBe(200);
    // A looks once and then knows there is no cancel request for this agent.
    expect(await heartbeat()).toEqual([]);
    expect(a.deps.notifier.knownNone(agent.machineId, "cancel_requested")).toBe(true);
    const canceled = await b.request("POST", `/api/jobs/${jobId}/cancel`, { token: userOnB });
    expect(canceled.status).toBeLessThan(300);
    // B's NOTIFY makes A forget it within milliseconds of the commit.
    await until(
      () => !a.deps.notifier.knownNone(agent.machineId, "cancel_requested"),
      "A to hear of the cancel request",
    );
    expect(await heartbeat()).toEqual([jobId]);
  });

  test("the lease sweep on both replicas at once records each expiry once", async () => {
    const url = await cluster.createDatabase("sweeps");
    const [a, b] = await Promise.all([replica("A", url), replica("B", url)]);
    if (!a || !b) throw new Error("no replicas");
    const agent = await addAgent(a);
    const repo = await a.deps.store.repositories.insert({
      name: "swept",
      agentMachineId: agent.machineId,
      location: "/srv/borg/swept",
      borgVersion: 1,
      encryption: "none",
      passphraseEncrypted: null,
      passphraseLocation: "agent",
      sourcePaths: ["/etc"],
      excludePatterns: [],
      compression: "lz4",
      archiveName: "{hostname}-{now}",
      appendOnly: false,
      sshHostKey: null,
    });
    if (!repo) throw new Error("no repository");
    const queued = await b.request("POST", `/api/repositories/${repo.id}/check`, {
      token: await login(b),
      body: {},
    });
    const jobId = queued.body.job_id as number;
    const t = Date.now();
    await a.deps.store.jobs.claim(jobId, agent.machineId, t, t + 1);
    await a.deps.store.jobs.start(jobId, agent.machineId, t, t + 1);
    const later = t + 60_000;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? a : b).deps.store.jobs.failExpired(later, "agent lost"),
      ),
    );
    expect(results.flat().map((j) => j.id)).toEqual([jobId]);
    expect((await b.deps.store.jobs.byId(jobId))?.status).toBe("failed");
  });

  test("a plan backup's result delivered to both replicas at once chains one prune", async () => {
    const url = await cluster.createDatabase("chain");
    const [a, b] = await Promise.all([replica("A", url), replica("B", url)]);
    if (!a || !b) throw new Error("no replicas");
    const agent = await addAgent(a, [...JOB_KINDS, PLAN_PRUNE_CAPABILITY]);
    const token = await login(a);
    const created = await a.request("POST", "/api/repositories", {
      token,
      body: {
        name: "chained",
        agent_machine_id: agent.machineId,
        location: "/srv/borg/chained",
        passphrase_location: "agent",
        source_paths: ["/etc"],
      },
    });
    expect(created.status).toBe(201);
    const plan = await a.request("POST", "/api/plans", {
      token,
      body: { repository_id: created.body.id, schedule: "@daily", retention: { keep_last: 3 } },
    });
    expect(plan.status).toBe(201);
    const run = await b.request("POST", `/api/plans/${plan.body.id}/run`, {
      token: await login(b),
    });
    expect(run.status).toBe(202);
    const jobId = run.body.job_id as number;
    const path = `/api/agents/jobs/${jobId}`;
    expect((await a.request("POST", `${path}/claim`, { agentToken: agent.token })).status).toBe(
      200,
    );
    expect(
      (await a.request("POST", `${path}/start`, { agentToken: agent.token, body: {} })).status,
    ).toBe(200);
    const body = { result: { return_code: 0, archive_name: "plan1-host" } };
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? a : b).request("POST", `${path}/complete`, {
          agentToken: agent.token,
          body,
        }),
      ),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const jobs = await b.deps.store.jobs.list({ limit: 10 });
    // Newest first: the one prune the completion chained, and the backup.
    expect(jobs.filter((j) => j.planId === plan.body.id).map((j) => j.jobKind)).toEqual([
      "repo.prune",
      "backup.create",
    ]);
  });

  test("notifications: the cooldown holds across replicas; both senders, each message once", async () => {
    const url = await cluster.createDatabase("notify");
    const [a, b] = await Promise.all([replica("A", url), replica("B", url)]);
    if (!a || !b) throw new Error("no replicas");
    const got: string[] = [];
    const receiver = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        got.push(JSON.parse(await request.text()).summary);
        return new Response(null, { status: 200 });
      },
    });
    try {
      const token = await login(a);
      const channel = await a.request("POST", "/api/notification-channels", {
        token,
        body: {
          name: "replicated hook",
          type: "webhook",
          config: { url: `http://127.0.0.1:${receiver.port}/hook` },
          events: ["repository.overdue", "machine.offline"],
          cooldown_minutes: 60,
        },
      });
      expect(channel.status).toBe(201);
      // Both replicas evaluate the same overdue repository at once, five times each.
      const overdue = (hub: Replica) =>
        publishHubEvent(hub.deps, {
          type: "repository.overdue",
          repository: { id: 1, name: "shared" },
          overdueSince: Date.now() - 60_000,
          lastSuccessAt: null,
        });
      const published = await Promise.all(
        Array.from({ length: 10 }, (_, i) => overdue(i % 2 ? a : b)),
      );
      expect(published.flat()).toHaveLength(1);
      // 20 other messages (one machine each), then both senders drain the outbox together.
      for (let i = 0; i < 20; i++) {
        await publishHubEvent((i % 2 ? a : b).deps, {
          type: "machine.offline",
          machine: { id: 100 + i, name: `m${i}` },
          lastSeenAt: null,
        });
      }
      for (let round = 0; round < 5; round++) {
        await Promise.all([runNotificationPass(a.deps), runNotificationPass(b.deps)]);
      }
      expect(got).toHaveLength(21);
      expect(new Set(got).size).toBe(21);
    } finally {
      receiver.stop(true);
    }
  });

  test("a download whose browser waits on A gets the chunks its agent sends to B", async () => {
    const url = await cluster.createDatabase("downloads");
    const [a, b] = await Promise.all([replica("A", url), replica("B", url)]);
    if (!a || !b) throw new Error("no replicas");
    const aUrl = a.serve();
    const bUrl = b.serve();
    a.deps.settings.replicaUrl = aUrl;
    const agent = await addAgent(a, [...JOB_KINDS]);
    const user = await login(a);
    const runtime = (hub: Replica, method: string, path: string, body?: unknown) =>
      hub.request(method, `/api/agents/jobs${path}`, { agentToken: agent.token, body });
    const repoId = await addRepository(a, user, agent.machineId, "downloads", ["/home"]);
    // The archive's listing, cached on the hub (what the file browser does first).
    const browse = await a.request("GET", `/api/repositories/${repoId}/archives/a-1/tree`, {
      token: user,
    });
    expect(browse.status).toBe(202);
    const browseId = browse.body.job_id as number;
    expect((await runtime(a, "POST", `/${browseId}/claim`, {})).status).toBe(200);
    expect((await runtime(a, "POST", `/${browseId}/start`, {})).status).toBe(200);
    const entry = { path: "home/u/f.bin", type: "file", size: 10, mtime: null, mode: null };
    const listed = await runtime(a, "POST", `/${browseId}/listing`, {
      sequence: 0,
      entries: [entry],
    });
    expect(listed.status).toBe(200);
    const done = { result: { return_code: 0, entry_count: 1, chunk_count: 1 } };
    expect((await runtime(a, "POST", `/${browseId}/complete`, done)).status).toBe(200);

    // The browser's request is on A; the agent talks to B.
    const download = fetch(
      `${aUrl}/api/repositories/${repoId}/archives/a-1/download?path=/home/u/f.bin`,
      { headers: { authorization: `Bearer ${user}` } },
    );
    let jobId: number | undefined;
    while (jobId === undefined) {
      const poll = await runtime(b, "GET", "/poll?limit=10&wait=1");
      jobId = poll.body.jobs.find((j: { type: string }) => j.type === "archive.download")?.id;
    }
    expect((await runtime(b, "POST", `/${jobId}/claim`, {})).status).toBe(200);
    expect((await runtime(b, "POST", `/${jobId}/start`, {})).status).toBe(200);
    // No wait for A's announcement to reach B: a first chunk may outrun it, and B waits.
    const chunk = (offset: number, text: string, headers: Record<string, string> = {}) =>
      fetch(`${bUrl}/api/agents/jobs/${jobId}/download?offset=${offset}`, {
        method: "POST",
        headers: {
          "x-borg-agent-authorization": `Bearer ${agent.token}`,
          "content-type": "application/octet-stream",
          ...headers,
        },
        body: text,
      });
    // Handed on once at most: a chunk marked as handed on is B's to take, and B has no browser.
    const looped = await chunk(0, "01234", { "x-borgctl-handed-on": "1" });
    expect(looped.status).toBe(409);
    expect(a.deps.downloads.get(jobId)?.bytesReceived).toBe(0);
    const first = await chunk(0, "01234");
    expect(first.status).toBe(200);
    expect(((await first.json()) as { cancel_requested: boolean }).cancel_requested).toBe(false);
    expect((await chunk(5, "56789")).status).toBe(200);
    const complete = { result: { return_code: 0, bytes: 10 } };
    expect((await runtime(b, "POST", `/${jobId}/complete`, complete)).status).toBe(200);
    const answer = await download;
    expect(answer.status).toBe(200);
    // The job ended on B; A closed the stream on its status event.
    expect(await answer.text()).toBe("0123456789");
    await until(() => b.deps.downloadDirectory.ownerOf(jobId) === undefined, "A's withdrawal");
  }, 60_000);

  test("a replica started with another secret key is refused, saying why", async () => {
    const url = await cluster.createDatabase("keys");
    const first = await replica("A", url);
    expect(await first.deps.store.settings.get("secret_key_check")).toBeString();
    const other = SecretBox.fromText(Buffer.alloc(32, 9).toString("base64"));
    const error = await verifySecretKey(first.deps.store, other, Date.now()).catch((e) => e);
    expect(error).toBeInstanceOf(SecretKeyMismatchError);
    expect(String(error.message)).toContain("BORGCTL_SECRET_KEY");
    // The same key passes again (a restart, or a second replica).
    await verifySecretKey(first.deps.store, SecretBox.fromText(SECRET_KEY), Date.now());
  });

  test("PostgreSQL briefly down: requests fail, the replica stays up and recovers by itself", async () => {
    const url = await cluster.createDatabase("outage");
    const [a, b] = await Promise.all([replica("A", url), replica("B", url)]);
    if (!a || !b) throw new Error("no replicas");
    const agent = await addAgent(a);
    const token = await login(b);
    await cluster.pause();
    const during = await b.request("GET", "/api/repositories", { token });
    console.log(`while PostgreSQL is down: ${during.status} ${during.text}`);
    expect({ status: during.status, code: (during.body as { code?: string }).code }).toEqual({
      status: 503,
      code: "unavailable",
    });
    expect(during.text).not.toContain("postgres://");
    await cluster.resume();
    const resumedAt = performance.now();
    let after = await b.request("GET", "/api/repositories", { token });
    while (after.status !== 200 && performance.now() - resumedAt < 20_000) {
      await Bun.sleep(100);
      after = await b.request("GET", "/api/repositories", { token });
    }
    console.log(
      `first 200 after PostgreSQL came back: ${(performance.now() - resumedAt).toFixed(0)} ms`,
    );
    expect(after.status).toBe(200);
    // LISTEN reconnects by itself: a poll on A still wakes for a job queued on B.
    const repoId = await addRepository(b, token, agent.machineId, "after-outage");
    const deadline = performance.now() + 20_000;
    for (;;) {
      const polling = a.request("GET", "/api/agents/jobs/poll?wait=5", { agentToken: agent.token });
      await until(() => a.deps.notifier.waiting === 1, "the poll to wait on A");
      const queuedAt = performance.now();
      const queued = await b.request("POST", `/api/repositories/${repoId}/check`, {
        token,
        body: {},
      });
      const poll = await polling;
      const ms = performance.now() - queuedAt;
      // A poll may also end early and empty: the re-subscribe wakes every waiter to re-check.
      const woke = poll.body.jobs.some((j: { id: number }) => j.id === queued.body.job_id);
      await b.deps.store.jobs.cancelQueued(queued.body.job_id, Date.now());
      if (woke && ms < 4_000) {
        console.log(`wake across replicas after the outage: ${ms.toFixed(1)} ms`);
        break;
      }
      if (performance.now() > deadline) throw new Error("LISTEN did not come back");
    }
  }, 90_000);
});
