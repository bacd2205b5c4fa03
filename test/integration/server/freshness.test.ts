/**
 * Freshness (issue 15): every repository answer says whether it is protected, the
 * expected interval comes from its enabled plans (croner) or a hand-set value, and the
 * freshness sweep stores the transition into overdue once (listener called once), which
 * a success ends. Real SQLite, the real agent runtime routes, a fake clock.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RepositoryRow } from "../../../src/server/db/records.ts";
import { createHubDeps } from "../../../src/server/deps.ts";
import { refreshAllBoxes } from "../../../src/server/services/boxes.ts";
import {
  planInterval,
  scheduleGapSeconds,
  sweepFreshness,
} from "../../../src/server/services/freshness.ts";
import { LISTING_LAG_MS } from "../../../src/server/services/storage-evidence.ts";
import { runSweeps } from "../../../src/server/services/sweeps.ts";
import { runProcess } from "../../../src/shared/process/spawn.ts";
import { JobAccepted, Repository } from "../../../src/shared/protocol/api.ts";
import { startHttpOnlyBox } from "../../helpers/box.ts";
import { createTestHub } from "../../helpers/hub.ts";
import {
  addAgentMachine,
  createRepository,
  type TestAgent,
  userWithRole,
} from "../../helpers/hub-fixtures.ts";
import { generateKey } from "../../helpers/sshd.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Days pass on the fake clock: sessions must outlive them.
const hub = createTestHub({ settings: { sessionTtlMs: 365 * DAY } });
let admin: string;
let operator: string;
let viewer: string;
let agent: TestAgent;
const overdueCalls: { id: number; since: number }[] = [];

beforeAll(async () => {
  admin = await hub.login();
  operator = await userWithRole(hub, "operator");
  viewer = await userWithRole(hub, "viewer");
  agent = await addAgentMachine(hub);
  hub.deps.onRepositoryOverdue = (repository: RepositoryRow, since: number) => {
    overdueCalls.push({ id: repository.id, since });
  };
});
afterAll(() => hub.close());

const call = (method: string, path: string, body?: unknown) =>
  hub.request(method, `/api/agents/jobs${path}`, { agentToken: agent.token, body });

async function repository(id: number): Promise<Repository> {
  const response = await hub.request("GET", `/api/repositories/${id}`, { token: viewer });
  expect(response.status).toBe(200);
  return Repository.parse(response.body);
}

/** A backup of the repository run to `outcome` through the agent routes. */
async function backup(id: number, outcome: "complete" | "fail") {
  const queued = await hub.request("POST", `/api/repositories/${id}/backup`, {
    token: operator,
    body: {},
  });
  expect(queued.status).toBe(202);
  const job = JobAccepted.parse(queued.body).job_id;
  expect((await call("POST", `/${job}/claim`)).status).toBe(200);
  expect((await call("POST", `/${job}/start`, {})).status).toBe(200);
  const answer =
    outcome === "complete"
      ? await call("POST", `/${job}/complete`, {
          result: { return_code: 0, archive_name: "host-1" },
        })
      : await call("POST", `/${job}/fail`, { error_message: "borg said no", return_code: 2 });
  expect(answer.status).toBe(200);
}

describe("expected interval from schedules (croner)", () => {
  test("the longest gap between consecutive runs; the shortest over enabled plans", () => {
    const from = Date.UTC(2026, 0, 5); // a Monday
    expect(scheduleGapSeconds("@daily", "UTC", from)).toBe(86_400);
    expect(scheduleGapSeconds("*/15 * * * *", "UTC", from)).toBe(900);
    // Weekdays at 02:00: Friday to Monday is the gap that matters.
    expect(scheduleGapSeconds("0 2 * * 1-5", "UTC", from)).toBe(3 * 86_400);
    // Month lengths: the longest month counts. Office hours: Friday 17:30 to Monday 09:00.
    expect(scheduleGapSeconds("0 2 1 * *", "UTC", from)).toBe(31 * 86_400);
    expect(scheduleGapSeconds("*/30 9-17 * * 1-5", "UTC", from)).toBe(2 * 86_400 + 15.5 * 3600);
    // A stored schedule croner no longer reads gives no interval instead of failing answers.
    expect(scheduleGapSeconds("not a schedule", "UTC", from)).toBeNull();
    const plan = (schedule: string, enabled = true, randomDelaySeconds = 0) =>
      ({ schedule, timezone: "UTC", enabled, randomDelaySeconds }) as never;
    expect(planInterval([plan("@weekly"), plan("@daily", true, 600)], from)).toBe(86_400 + 600);
    expect(planInterval([plan("@hourly", false), plan("@weekly")], from)).toBe(7 * 86_400);
    expect(planInterval([plan("@hourly", false)], from)).toBeNull();
  });
});

describe("freshness in repository answers and the sweep", () => {
  test("never → overdue (once, listener once) → ok after a success → failing", async () => {
    const repo = await createRepository(hub, admin, agent.machineId);
    expect(repo.freshness).toEqual({
      status: "never",
      last_success_at: null,
      last_job_status: null,
      failures_since_success: 0,
      expected_interval_seconds: null,
      expected_interval_source: null,
      overdue_factor: 1.5,
      overdue_at: null,
      overdue_since: null,
      storage_evidence: null, // not on a storage box
    });
    const plan = await hub.request("POST", "/api/plans", {
      token: operator,
      body: { repository_id: repo.id, schedule: "@daily" },
    });
    expect(plan.status).toBe(201);
    // The clock starts at the later of the repository and its first enabled plan.
    const planCreatedAt = Math.max(
      Date.parse((plan.body as { created_at: string }).created_at),
      Date.parse(repo.created_at),
    );
    let fresh = (await repository(repo.id)).freshness;
    expect(fresh).toMatchObject({
      status: "never",
      expected_interval_seconds: 86_400,
      expected_interval_source: "plans",
      overdue_at: new Date(planCreatedAt + 1.5 * DAY).toISOString(),
    });

    // Not yet: a day and a bit later.
    hub.tick(planCreatedAt - hub.now() + 1.4 * DAY);
    await runSweeps(hub.deps);
    expect((await repository(repo.id)).freshness.status).toBe("never");
    expect(overdueCalls.filter((c) => c.id === repo.id)).toEqual([]);

    // Past 1.5 days: overdue since the deadline, not since the sweep noticed.
    hub.tick(0.2 * DAY);
    await runSweeps(hub.deps);
    await runSweeps(hub.deps);
    fresh = (await repository(repo.id)).freshness;
    expect(fresh.status).toBe("overdue");
    expect(fresh.overdue_since).toBe(new Date(planCreatedAt + 1.5 * DAY).toISOString());
    expect(overdueCalls.filter((c) => c.id === repo.id)).toEqual([
      { id: repo.id, since: planCreatedAt + 1.5 * DAY },
    ]);
    // The list says the same, and the transition is in the audit trail.
    const list = await hub.request("GET", "/api/repositories", { token: viewer });
    const listed = (list.body as Repository[]).find((r) => r.id === repo.id);
    expect(listed?.freshness.status).toBe("overdue");
    const trail = await hub.request("GET", "/api/audit?action=repository.overdue", {
      token: admin,
    });
    expect(JSON.stringify(trail.body)).toContain(`repository:${repo.id}`);

    // A success ends it at once.
    await backup(repo.id, "complete");
    fresh = (await repository(repo.id)).freshness;
    expect(fresh).toMatchObject({
      status: "ok",
      last_job_status: "completed",
      failures_since_success: 0,
      overdue_since: null,
      last_success_at: new Date(hub.now()).toISOString(),
      overdue_at: new Date(hub.now() + 1.5 * DAY).toISOString(),
    });

    // Two failures: failing, counted.
    await backup(repo.id, "fail");
    await backup(repo.id, "fail");
    fresh = (await repository(repo.id)).freshness;
    expect(fresh).toMatchObject({
      status: "failing",
      last_job_status: "failed",
      failures_since_success: 2,
    });

    // Overdue again later: a second transition, a second call; still "failing" first.
    hub.tick(2 * DAY);
    await runSweeps(hub.deps);
    fresh = (await repository(repo.id)).freshness;
    expect(fresh.status).toBe("failing");
    expect(fresh.overdue_since).not.toBeNull();
    expect(overdueCalls.filter((c) => c.id === repo.id)).toHaveLength(2);
  });

  test("a hand-set interval and factor win over the plans and apply at once", async () => {
    const repo = await createRepository(hub, admin, agent.machineId);
    await hub.request("POST", "/api/plans", {
      token: operator,
      body: { repository_id: repo.id, schedule: "@weekly" },
    });
    await backup(repo.id, "complete");
    const successAt = hub.now();
    hub.tick(3 * HOUR);
    // Operators may set it (alerting only); bad values are a 400 naming the field.
    const bad = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: operator,
      body: { expected_interval_seconds: 5 },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("expected_interval_seconds");
    const patched = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: operator,
      body: { expected_interval_seconds: 3600, overdue_factor: 2 },
    });
    expect(patched.status).toBe(200);
    const body = Repository.parse(patched.body);
    expect(body.expected_interval_seconds).toBe(3600);
    expect(body.overdue_factor).toBe(2);
    expect(body.freshness).toMatchObject({
      status: "overdue",
      expected_interval_seconds: 3600,
      expected_interval_source: "repository",
      overdue_since: new Date(successAt + 2 * HOUR).toISOString(),
    });
    // Back to the plans: no longer overdue (cleared without a success).
    const reset = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: operator,
      body: { expected_interval_seconds: null },
    });
    expect(Repository.parse(reset.body).freshness).toMatchObject({
      status: "ok",
      expected_interval_seconds: 7 * 86_400,
      overdue_since: null,
    });
  });
});

describe("several hubs sweeping one database", () => {
  test("the transition is stored once and its listener called once, whoever sweeps", async () => {
    const admin = await hub.login();
    const repo = await createRepository(hub, admin, agent.machineId);
    await backup(repo.id, "complete");
    const patched = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: admin,
      body: { expected_interval_seconds: 600 },
    });
    expect(Repository.parse(patched.body).freshness.status).toBe("ok");
    hub.tick(3600_000);
    // Three "replicas": their own deps (and listeners) on the same store and clock.
    const calls: number[] = [];
    const replicas = [1, 2, 3].map((n) =>
      createHubDeps({
        store: hub.deps.store,
        logger: hub.deps.logger,
        secretBox: hub.deps.secretBox,
        clock: hub.deps.clock,
        onRepositoryOverdue: (r) => {
          if (r.id === repo.id) calls.push(n);
        },
      }),
    );
    const results = await Promise.all(replicas.map((deps) => sweepFreshness(deps)));
    expect(results.filter((r) => r.overdue.includes(repo.id))).toHaveLength(1);
    expect(calls).toHaveLength(1);
    // Later passes find it overdue already: nothing more.
    await Promise.all(replicas.map((deps) => sweepFreshness(deps)));
    expect(calls).toHaveLength(1);
  });
});

describe("an overdue repository reaches its notification channels", () => {
  test("the sweep publishes repository.overdue; the channel's cooldown makes it one message per window", async () => {
    const repo = await createRepository(hub, admin, agent.machineId);
    await backup(repo.id, "complete");
    const patched = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: admin,
      body: { expected_interval_seconds: 600 },
    });
    expect(patched.status).toBe(200);
    const channel = await hub.request("POST", "/api/notification-channels", {
      token: admin,
      body: {
        name: "overdue-sweep",
        type: "webhook",
        config: { url: "http://127.0.0.1:9/never-sent" },
        events: ["repository.overdue"],
        cooldown_minutes: 60,
      },
    });
    expect(channel.status).toBe(201);
    const channelId = (channel.body as { id: number }).id;
    const queued = async () => {
      const listed = await hub.request(
        "GET",
        `/api/notification-channels/${channelId}/deliveries`,
        { token: admin },
      );
      expect(listed.status).toBe(200);
      // Other tests' repositories are overdue too, each its own subject: only this one's.
      return (listed.body as { event: string; summary: string }[]).filter(
        (d) => d.event === "repository.overdue" && d.summary.includes(`"${repo.name}"`),
      );
    };
    hub.tick(1000_000); // past 1.5 × 600 s
    await sweepFreshness(hub.deps);
    await sweepFreshness(hub.deps);
    hub.tick(30 * 60_000);
    await sweepFreshness(hub.deps);
    const first = await queued();
    expect(first).toHaveLength(1);
    // An hour after the first message, still overdue: the next one goes out.
    hub.tick(31 * 60_000);
    await sweepFreshness(hub.deps);
    expect(await queued()).toHaveLength(2);
  });
});

describe("storage-side evidence: what the box saw (a real box, real borg)", () => {
  test("unknown before a backup, agrees after one that wrote, disagrees for one the box never saw", async () => {
    // Its own hub: the box dates writes by real file times, so the hub's clock starts at now.
    const local = createTestHub({ settings: { sessionTtlMs: 365 * DAY } });
    const box = await startHttpOnlyBox();
    const dir = await mkdtemp(join(tmpdir(), "borgctl-evidence-"));
    try {
      const localAdmin = await local.login();
      const machine = await addAgentMachine(local);
      const key = await generateKey(dir, "machine");
      await local.deps.store.machines.recordHeartbeat(
        machine.machineId,
        { sshPublicKey: key.publicLine },
        local.now(),
      );
      const registered = await local.request("POST", "/api/boxes", {
        token: localAdmin,
        body: { name: "nas", url: box.url, token: box.token },
      });
      expect(registered.status).toBe(201);
      const boxId = (registered.body as { id: number }).id;
      const created = await local.request("POST", "/api/repositories", {
        token: localAdmin,
        body: {
          name: "laptop",
          agent_machine_id: machine.machineId,
          box_id: boxId,
          encryption: "none",
          source_paths: ["/home"],
          init: false,
        },
      });
      expect(created.status).toBe(201);
      const repoId = Repository.parse(created.body).id;
      const evidence = async () => {
        const got = await local.request("GET", `/api/repositories/${repoId}`, {
          token: localAdmin,
        });
        return Repository.parse(got.body).freshness.storage_evidence;
      };
      const agentCall = (path: string, body?: unknown) =>
        local.request("POST", `/api/agents/jobs${path}`, { agentToken: machine.token, body });
      const reportBackup = async () => {
        const queued = await local.request("POST", `/api/repositories/${repoId}/backup`, {
          token: localAdmin,
          body: {},
        });
        expect(queued.status, queued.text).toBe(202);
        const job = JobAccepted.parse(queued.body).job_id;
        expect((await agentCall(`/${job}/claim`)).status).toBe(200);
        expect((await agentCall(`/${job}/start`, {})).status).toBe(200);
        const done = await agentCall(`/${job}/complete`, {
          result: { return_code: 0, archive_name: `laptop-${job}` },
        });
        expect(done.status).toBe(200);
      };

      local.tick(LISTING_LAG_MS + 1000);
      await refreshAllBoxes(local.deps);
      expect(await evidence()).toMatchObject({
        box_id: boxId,
        box_last_write_at: null,
        agrees: null,
        note: "no successful backup reported yet: nothing to compare",
      });

      // A real backup into the box's directory (borg run locally, as sshd would run it).
      const [listed] = (await local.deps.store.boxes.byId(boxId))?.repos ?? [];
      const borgEnv = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        BORG_BASE_DIR: join(dir, "borg"),
        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "yes",
      };
      const path = listed?.path as string;
      for (const argv of [
        ["borg", "init", "--encryption=none", path],
        ["borg", "create", `${path}::first`, dir],
      ]) {
        const ran = await runProcess({ argv, env: borgEnv });
        expect(ran.exitCode, ran.stderrTail.join("\n")).toBe(0);
      }
      // The box's GET /repos/{name} reads fresh (and updates the cache its list serves).
      const fresh = await fetch(`${box.url}/api/v1/repos/${listed?.name}`, {
        headers: { Authorization: `Bearer ${box.token}` },
      });
      expect(fresh.status).toBe(200);
      local.tick(Date.now() - local.now()); // the hub's clock back in step with the files'
      await reportBackup();
      await refreshAllBoxes(local.deps);
      const agreed = await evidence();
      expect(agreed?.agrees).toBe(true);
      expect(agreed?.box_last_write_at).not.toBeNull();

      // The hub records another success a day later; the box saw no write for it.
      local.tick(DAY);
      await reportBackup();
      await refreshAllBoxes(local.deps);
      expect(await evidence()).toMatchObject({ agrees: null }); // listed too soon to tell
      local.tick(LISTING_LAG_MS + 1000);
      await refreshAllBoxes(local.deps);
      const disagreed = await evidence();
      expect(disagreed).toMatchObject({
        agrees: false,
        box_last_write_at: agreed?.box_last_write_at,
      });
      expect(disagreed?.note).toContain("the box saw no write to this repository since");
    } finally {
      local.close();
      await box.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
