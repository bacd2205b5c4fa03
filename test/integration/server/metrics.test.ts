/**
 * GET /metrics (issue 15): who may read it (a metrics token in constant time, or a
 * viewer's credential; never anonymous), and the series after known jobs, read back with
 * a Prometheus text-format parser. Real SQLite, the real agent runtime routes, a fake
 * clock so job durations are known.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { refreshAllBoxes } from "../../../src/server/services/boxes.ts";
import { runSweeps } from "../../../src/server/services/sweeps.ts";
import { JobAccepted, type Repository } from "../../../src/shared/protocol/api.ts";
import { startHttpOnlyBox } from "../../helpers/box.ts";
import { createTestHub } from "../../helpers/hub.ts";
import {
  addAgentMachine,
  createRepository,
  type TestAgent,
  userWithRole,
} from "../../helpers/hub-fixtures.ts";
import { histogram, parseMetrics, sampleValue } from "../../helpers/prometheus-text.ts";

const METRICS_TOKEN = "metrics-token-for-the-tests";
const hub = createTestHub({ settings: { metricsToken: METRICS_TOKEN } });
let operator: string;
let viewer: string;
let agent: TestAgent;
let laptop: Repository;
let server: Repository;
let backupDoneAt = 0;
let box: Awaited<ReturnType<typeof startHttpOnlyBox>>;
let boxStopped = false;

const call = (method: string, path: string, body?: unknown) =>
  hub.request(method, `/api/agents/jobs${path}`, { agentToken: agent.token, body });

/** A job of `repo` run through the agent routes, taking `seconds` on the fake clock. */
async function run(
  repo: Repository,
  action: string,
  seconds: number,
  end: { complete?: unknown; fail?: true },
) {
  const queued = await hub.request("POST", `/api/repositories/${repo.id}/${action}`, {
    token: operator,
    body: {},
  });
  expect(queued.status).toBe(202);
  const id = JobAccepted.parse(queued.body).job_id;
  expect((await call("POST", `/${id}/claim`)).status).toBe(200);
  expect((await call("POST", `/${id}/start`, {})).status).toBe(200);
  hub.tick(seconds * 1000);
  const answer = end.fail
    ? await call("POST", `/${id}/fail`, { error_message: "borg said no", return_code: 2 })
    : await call("POST", `/${id}/complete`, { result: end.complete });
  expect(answer.status).toBe(200);
}

const stats = (original_size: number) => ({
  original_size,
  compressed_size: 10,
  deduplicated_size: 5,
  nfiles: 3,
});

beforeAll(async () => {
  operator = await userWithRole(hub, "operator");
  viewer = await userWithRole(hub, "viewer");
  agent = await addAgentMachine(hub);
  const admin = await hub.login();
  laptop = await createRepository(hub, admin, agent.machineId, { name: "laptop" });
  server = await createRepository(hub, admin, agent.machineId, { name: "server" });
  await hub.request("PATCH", `/api/repositories/${server.id}`, {
    token: admin,
    body: { expected_interval_seconds: 3600 },
  });
  await run(laptop, "backup", 42, {
    complete: { return_code: 0, archive_name: "laptop-1", stats: stats(1234) },
  });
  backupDoneAt = hub.now();
  await run(laptop, "backup", 10, { fail: true });
  await run(laptop, "check", 400, { complete: { return_code: 0 } });
  // One queued backup waits for the agent.
  await hub.request("POST", `/api/repositories/${server.id}/backup`, { token: operator, body: {} });
  // The server repository (1 h expected, never backed up) goes overdue.
  hub.tick(2 * 3600 * 1000);
  await runSweeps(hub.deps);
  // A real box (its real filesystem sizes), registered by the API.
  box = await startHttpOnlyBox();
  const registered = await hub.request("POST", "/api/boxes", {
    token: admin,
    body: { name: "nas-box", url: box.url, token: box.token },
  });
  expect(registered.status).toBe(201);
}, 30_000);
afterAll(async () => {
  hub.close();
  if (!boxStopped) await box.stop();
});

describe("GET /metrics: access", () => {
  test("anonymous and a wrong token are 401; the metrics token and a viewer may read", async () => {
    expect((await hub.request("GET", "/metrics")).status).toBe(401);
    expect((await hub.request("GET", "/metrics", { token: "not-the-metrics-token" })).status).toBe(
      401,
    );
    // An agent credential is not a way in either.
    expect((await hub.request("GET", "/metrics", { agentToken: agent.token })).status).toBe(401);
    const byToken = await hub.request("GET", "/metrics", { token: METRICS_TOKEN });
    expect(byToken.status).toBe(200);
    expect(byToken.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    expect((await hub.request("GET", "/metrics", { token: viewer })).status).toBe(200);
    // The metrics token opens nothing else.
    expect((await hub.request("GET", "/api/repositories", { token: METRICS_TOKEN })).status).toBe(
      401,
    );
  });
});

describe("GET /metrics: series after known jobs", () => {
  test("agents, jobs by kind and status, queue depth, durations, freshness, sizes, requests", async () => {
    const response = await hub.request("GET", "/metrics", { token: METRICS_TOKEN });
    const m = parseMetrics(response.text);

    expect(sampleValue(m, "borgctl_agents", { status: "online" })).toBe(1);
    expect(sampleValue(m, "borgctl_agents", { status: "offline" })).toBe(0);

    expect(
      sampleValue(m, "borgctl_jobs_total", { kind: "backup.create", status: "completed" }),
    ).toBe(1);
    expect(sampleValue(m, "borgctl_jobs_total", { kind: "backup.create", status: "failed" })).toBe(
      1,
    );
    expect(sampleValue(m, "borgctl_jobs_total", { kind: "backup.create", status: "queued" })).toBe(
      1,
    );
    expect(sampleValue(m, "borgctl_jobs_total", { kind: "repo.check", status: "completed" })).toBe(
      1,
    );
    expect(sampleValue(m, "borgctl_jobs_queued")).toBe(1);

    expect(m.get("borgctl_job_duration_seconds")?.type).toBe("HISTOGRAM");
    const backups = histogram(response.text, "borgctl_job_duration_seconds", {
      kind: "backup.create",
    });
    expect(backups.count).toBe(2);
    expect(backups.sum).toBe(52);
    expect(backups.buckets).toMatchObject({ "5": 0, "15": 1, "60": 2, "+Inf": 2 });
    const checks = histogram(response.text, "borgctl_job_duration_seconds", {
      kind: "repo.check",
    });
    expect(checks.buckets).toMatchObject({ "300": 0, "600": 1 });

    expect(
      sampleValue(m, "borgctl_repository_last_success_timestamp_seconds", { repository: "laptop" }),
    ).toBe(backupDoneAt / 1000);
    // Never backed up: no last-success sample, but its freshness says so.
    expect(
      m
        .get("borgctl_repository_last_success_timestamp_seconds")
        ?.metrics.some((s) => s.labels?.repository === "server"),
    ).toBe(false);
    expect(sampleValue(m, "borgctl_repository_overdue", { repository: "server" })).toBe(1);
    expect(sampleValue(m, "borgctl_repository_overdue", { repository: "laptop" })).toBe(0);
    expect(
      sampleValue(m, "borgctl_repository_freshness", { repository: "laptop", status: "failing" }),
    ).toBe(1);
    expect(
      sampleValue(m, "borgctl_repository_freshness", { repository: "laptop", status: "ok" }),
    ).toBe(0);
    expect(
      sampleValue(m, "borgctl_repository_freshness", { repository: "server", status: "overdue" }),
    ).toBe(1);
    expect(
      sampleValue(m, "borgctl_repository_failures_since_success", { repository: "laptop" }),
    ).toBe(1);
    expect(
      sampleValue(m, "borgctl_repository_expected_interval_seconds", { repository: "server" }),
    ).toBe(3600);
    expect(sampleValue(m, "borgctl_backup_original_bytes", { repository: "laptop" })).toBe(1234);

    // Requests by matched route pattern, never the raw path.
    const requests = m.get("borgctl_http_requests_total");
    expect(requests?.type).toBe("COUNTER");
    const routes = new Set(requests?.metrics.map((s) => s.labels?.route));
    expect(routes.has("/api/repositories/:id/backup")).toBe(true);
    expect(routes.has("/api/agents/jobs/:id/claim")).toBe(true);
    expect([...routes].some((r) => /\/\d+/.test(r ?? ""))).toBe(false);
    expect(
      sampleValue(m, "borgctl_http_requests_total", {
        method: "POST",
        route: "/api/repositories/:id/backup",
        status: "202",
      }),
    ).toBe(3);
    expect(
      sampleValue(m, "borgctl_http_requests_total", {
        method: "GET",
        route: "/metrics",
        status: "401",
      }),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe("GET /metrics: storage boxes", () => {
  test("free and total bytes from the stored box facts; online until a refresh misses it", async () => {
    const [stored] = await hub.deps.store.boxes.list();
    expect(stored?.totalBytes).toBeGreaterThan(0);
    let m = parseMetrics((await hub.request("GET", "/metrics", { token: METRICS_TOKEN })).text);
    expect(sampleValue(m, "borgctl_box_online", { box: "nas-box" })).toBe(1);
    expect(sampleValue(m, "borgctl_box_free_bytes", { box: "nas-box" })).toBe(
      stored?.freeBytes as number,
    );
    expect(sampleValue(m, "borgctl_box_total_bytes", { box: "nas-box" })).toBe(
      stored?.totalBytes as number,
    );

    boxStopped = true;
    await box.stop();
    await refreshAllBoxes(hub.deps);
    m = parseMetrics((await hub.request("GET", "/metrics", { token: METRICS_TOKEN })).text);
    expect(sampleValue(m, "borgctl_box_online", { box: "nas-box" })).toBe(0);
    // The last known sizes stay (an offline box does not have zero bytes).
    expect(sampleValue(m, "borgctl_box_total_bytes", { box: "nas-box" })).toBe(
      stored?.totalBytes as number,
    );
  });
});
