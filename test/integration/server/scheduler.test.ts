/**
 * The scheduler (services/scheduler.ts) against the real app and SQLite, on the hub's
 * fake clock: a pass is `runScheduler(hub.deps)` after `hub.tick(…)`, never a sleep.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobRow } from "../../../src/server/db/records.ts";
import { ON_TIME_MS, randomDelayMs, runScheduler } from "../../../src/server/services/scheduler.ts";
import { Plan } from "../../../src/shared/protocol/api.ts";
import { createTestHub, type TestHub } from "../../helpers/hub.ts";
import { addAgentMachine, createRepository, type TestAgent } from "../../helpers/hub-fixtures.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const hubs: TestHub[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const hub of hubs.splice(0)) hub.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Moves the hub's clock to `iso`. */
const setClock = (hub: TestHub, iso: string) => hub.tick(Date.parse(iso) - hub.now());

async function setup(
  options: { at?: string; path?: string; status?: "online" | "offline" } = {},
): Promise<{ hub: TestHub; admin: string; agent: TestAgent; repositoryId: number }> {
  const hub = createTestHub({ path: options.path });
  hubs.push(hub);
  if (options.at) setClock(hub, options.at);
  const admin = await hub.login();
  const agent = await addAgentMachine(hub, { status: options.status ?? "online" });
  const repositoryId = (await createRepository(hub, admin, agent.machineId)).id;
  return { hub, admin, agent, repositoryId };
}

async function createPlan(hub: TestHub, token: string, body: Record<string, unknown>) {
  const response = await hub.request("POST", "/api/plans", { token, body });
  if (response.status !== 201) throw new Error(response.text);
  return Plan.parse(response.body);
}

async function jobsOfPlan(hub: TestHub, planId: number): Promise<JobRow[]> {
  const rows = await hub.deps.store.jobs.list({ limit: 500 });
  return rows.filter((j) => j.planId === planId).reverse();
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Finishes a job as its agent would (claim, start, complete). */
async function finish(hub: TestHub, agent: TestAgent, jobId: number) {
  for (const [path, body] of [
    [`/${jobId}/claim`, undefined],
    [`/${jobId}/start`, {}],
    [`/${jobId}/complete`, { result: { return_code: 0 } }],
  ] as const) {
    const r = await hub.request("POST", `/api/agents/jobs${path}`, {
      agentToken: agent.token,
      body,
    });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`);
  }
}

async function auditActions(hub: TestHub, action: string) {
  return hub.deps.store.audit.list({ limit: 100, action });
}

describe("due times", () => {
  test("a daily plan queues one backup per due time, with plan_id, scheduled_for and triggered_by", async () => {
    const { hub, admin, agent, repositoryId } = await setup({ at: "2025-06-01T12:00:00Z" });
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "0 2 * * *",
      timezone: "Europe/Berlin",
    });
    expect(plan.next_run_at).toBe("2025-06-02T00:00:00.000Z"); // 02:00 CEST
    expect(await runScheduler(hub.deps)).toEqual([]);
    setClock(hub, "2025-06-01T23:59:59Z");
    expect(await runScheduler(hub.deps)).toEqual([]);
    setClock(hub, "2025-06-02T00:00:10Z");
    const [first] = await runScheduler(hub.deps);
    expect(first).toMatchObject({ planId: plan.id, outcome: "queued" });
    // The same pass again, and a later one on the same day: nothing more.
    expect(await runScheduler(hub.deps)).toEqual([]);
    hub.tick(HOUR);
    expect(await runScheduler(hub.deps)).toEqual([]);
    const jobs = await jobsOfPlan(hub, plan.id);
    expect(jobs.map((j) => [j.jobKind, j.status, iso(j.scheduledFor), j.triggeredBy])).toEqual([
      ["backup.create", "queued", "2025-06-02T00:00:00.000Z", `plan:${plan.id}`],
    ]);
    // A new session: the clock moved past the first one's lifetime.
    const read = Plan.parse(
      (await hub.request("GET", `/api/plans/${plan.id}`, { token: await hub.login() })).body,
    );
    expect(read.last_run_at).toBe("2025-06-02T00:00:00.000Z");
    expect(read.last_job_id).toBe(jobs[0]?.id as number);
    expect(read.next_run_at).toBe("2025-06-03T00:00:00.000Z");
    // The next day, after the first backup finished: the second one.
    await finish(hub, agent, jobs[0]?.id as number);
    setClock(hub, "2025-06-03T00:00:05Z");
    expect((await runScheduler(hub.deps)).map((o) => o.outcome)).toEqual(["queued"]);
    expect((await jobsOfPlan(hub, plan.id)).map((j) => iso(j.scheduledFor))).toEqual([
      "2025-06-02T00:00:00.000Z",
      "2025-06-03T00:00:00.000Z",
    ]);
  });

  test("a disabled plan queues nothing, and enabling it again does not count the time it was off as missed", async () => {
    const { hub, admin, repositoryId } = await setup({ at: "2025-06-01T12:00:00Z" });
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "@hourly",
      enabled: false,
    });
    expect(plan.next_run_at).toBeNull();
    expect(plan.next_runs).toEqual([]);
    hub.tick(5 * HOUR);
    expect(await runScheduler(hub.deps)).toEqual([]);
    const patched = await hub.request("PATCH", `/api/plans/${plan.id}`, {
      token: admin,
      body: { enabled: true },
    });
    expect(patched.status).toBe(200);
    expect(await runScheduler(hub.deps)).toEqual([]);
    expect(await auditActions(hub, "plan.missed")).toEqual([]);
    hub.tick(HOUR);
    expect((await runScheduler(hub.deps)).map((o) => o.outcome)).toEqual(["queued"]);
  });
});

describe("daylight saving time (Europe/Berlin, a plan at 02:30)", () => {
  /** Runs the scheduler every 10 minutes from `from` for `days`, finishing each job it queues. */
  async function runDays(from: string, days: number) {
    const { hub, admin, agent, repositoryId } = await setup({ at: from });
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "30 2 * * *",
      timezone: "Europe/Berlin",
    });
    for (let t = 0; t < days * DAY; t += 10 * MINUTE) {
      hub.tick(10 * MINUTE);
      for (const outcome of await runScheduler(hub.deps)) {
        if (outcome.outcome === "queued") await finish(hub, agent, outcome.jobId);
      }
    }
    return { hub, plan, times: (await jobsOfPlan(hub, plan.id)).map((j) => iso(j.scheduledFor)) };
  }

  test("spring forward (2025-03-30: 02:30 does not exist): each day runs once, the gap day at 03:00", async () => {
    const { times, hub } = await runDays("2025-03-28T12:00:00Z", 4);
    expect(times).toEqual([
      "2025-03-29T01:30:00.000Z", // 02:30 CET
      "2025-03-30T01:00:00.000Z", // 03:00 CEST, the first time after the gap
      "2025-03-31T00:30:00.000Z", // 02:30 CEST
      "2025-04-01T00:30:00.000Z",
    ]);
    expect(await auditActions(hub, "plan.missed")).toEqual([]);
  });

  test("fall back (2025-10-26: 02:30 happens twice): each day runs once", async () => {
    const { times, hub } = await runDays("2025-10-24T12:00:00Z", 4);
    expect(times).toEqual([
      "2025-10-25T00:30:00.000Z", // 02:30 CEST
      "2025-10-26T00:30:00.000Z", // the first 02:30 (CEST), not the second (CET)
      "2025-10-27T01:30:00.000Z", // 02:30 CET
      "2025-10-28T01:30:00.000Z",
    ]);
    expect(await auditActions(hub, "plan.missed")).toEqual([]);
  });
});

describe("missed due times (the hub was down, or the clock jumped)", () => {
  test("run_once: three missed days make one job, for the newest, and plan.missed lists them", async () => {
    const { hub, admin, repositoryId } = await setup({ at: "2025-06-01T12:00:00Z" });
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "0 2 * * *",
      missed_run: "run_once",
    });
    setClock(hub, "2025-06-04T09:00:00Z"); // down from the 1st to the 4th
    const outcomes = await runScheduler(hub.deps);
    expect(outcomes).toEqual([
      {
        planId: plan.id,
        due: Date.parse("2025-06-04T02:00:00Z"),
        outcome: "queued",
        jobId: expect.any(Number),
      },
    ]);
    expect(await runScheduler(hub.deps)).toEqual([]);
    expect((await jobsOfPlan(hub, plan.id)).map((j) => iso(j.scheduledFor))).toEqual([
      "2025-06-04T02:00:00.000Z",
    ]);
    const [missed] = await auditActions(hub, "plan.missed");
    expect(missed?.details).toMatchObject({
      missed_run: "run_once",
      queued: true,
      times: ["2025-06-02T02:00:00.000Z", "2025-06-03T02:00:00.000Z", "2025-06-04T02:00:00.000Z"],
    });
  });

  test("skip: missed days queue nothing, are recorded, and the next due time runs as usual", async () => {
    const { hub, admin, repositoryId } = await setup({ at: "2025-06-01T12:00:00Z" });
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "0 2 * * *",
      missed_run: "skip",
    });
    setClock(hub, "2025-06-04T09:00:00Z");
    expect((await runScheduler(hub.deps)).map((o) => o.outcome)).toEqual(["missed"]);
    expect(await runScheduler(hub.deps)).toEqual([]);
    expect(await jobsOfPlan(hub, plan.id)).toEqual([]);
    const [missed] = await auditActions(hub, "plan.missed");
    expect(missed?.details).toMatchObject({ missed_run: "skip", queued: false });
    expect((missed?.details as { times?: string[] } | undefined)?.times).toHaveLength(3);
    setClock(hub, "2025-06-05T02:00:30Z");
    expect((await runScheduler(hub.deps)).map((o) => o.outcome)).toEqual(["queued"]);
  });

  test("across a hub restart on the same database: no due time twice, none lost beyond the policy", async () => {
    const dir = mkdtempSync(join(tmpdir(), "borgctl-scheduler-"));
    dirs.push(dir);
    const path = join(dir, "hub.sqlite");
    const first = await setup({ at: "2025-06-01T12:00:00Z", path });
    const plan = await createPlan(first.hub, first.admin, {
      repository_id: first.repositoryId,
      schedule: "0 * * * *",
    });
    setClock(first.hub, "2025-06-01T13:00:20Z");
    expect((await runScheduler(first.hub.deps)).map((o) => o.outcome)).toEqual(["queued"]);
    const [job] = await jobsOfPlan(first.hub, plan.id);
    await finish(first.hub, first.agent, job?.id as number);
    first.hub.close();
    hubs.splice(hubs.indexOf(first.hub), 1);

    // The "restarted" hub, on the same file, comes back at 16:10: 14:00, 15:00, 16:00 missed.
    const second = createTestHub({ path });
    hubs.push(second);
    setClock(second, "2025-06-01T13:00:30Z");
    expect(await runScheduler(second.deps)).toEqual([]); // 13:00 was acted on before the restart
    setClock(second, "2025-06-01T16:10:00Z");
    expect((await runScheduler(second.deps)).map((o) => o.outcome)).toEqual(["queued"]);
    expect((await jobsOfPlan(second, plan.id)).map((j) => iso(j.scheduledFor))).toEqual([
      "2025-06-01T13:00:00.000Z",
      "2025-06-01T16:00:00.000Z",
    ]);
  });
});

describe("one job at a time", () => {
  test("while the plan's backup is still queued (machine offline), due times are skipped and recorded; it runs once when back", async () => {
    const { hub, admin, agent, repositoryId } = await setup({
      at: "2025-06-01T12:00:00Z",
      status: "offline",
    });
    const plan = await createPlan(hub, admin, { repository_id: repositoryId, schedule: "@hourly" });
    const outcomes: string[] = [];
    for (let h = 0; h < 4; h++) {
      hub.tick(HOUR);
      outcomes.push(...(await runScheduler(hub.deps)).map((o) => o.outcome));
    }
    expect(outcomes).toEqual(["queued", "skipped", "skipped", "skipped"]);
    const jobs = await jobsOfPlan(hub, plan.id);
    expect(jobs.map((j) => j.status)).toEqual(["queued"]);
    const skipped = await auditActions(hub, "plan.skipped");
    expect(skipped.map((a) => (a.details as { reason: string }).reason)).toEqual([
      "backup_active",
      "backup_active",
      "backup_active",
    ]);
    // The machine comes back and runs the one queued job; the next due time queues again.
    await finish(hub, agent, jobs[0]?.id as number);
    hub.tick(HOUR);
    expect((await runScheduler(hub.deps)).map((o) => o.outcome)).toEqual(["queued"]);
  });

  test("a 6-field schedule every 5 s, seen every 15 s: one job per pass, never a burst", async () => {
    const { hub, admin, agent, repositoryId } = await setup({ at: "2025-06-01T12:00:00Z" });
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "*/5 * * * * *",
    });
    expect(plan.description).toBe("every 5 seconds (UTC)");
    for (let i = 0; i < 4; i++) {
      hub.tick(15_000);
      for (const o of await runScheduler(hub.deps)) {
        if (o.outcome === "queued") await finish(hub, agent, o.jobId);
      }
    }
    expect((await jobsOfPlan(hub, plan.id)).map((j) => iso(j.scheduledFor))).toEqual([
      "2025-06-01T12:00:15.000Z",
      "2025-06-01T12:00:30.000Z",
      "2025-06-01T12:00:45.000Z",
      "2025-06-01T12:01:00.000Z",
    ]);
    expect(await auditActions(hub, "plan.missed")).toEqual([]);
  });
});

describe("random delay", () => {
  test("the backup waits the plan's delay after the due time; scheduled_for stays the due time", async () => {
    const { hub, admin, repositoryId } = await setup({ at: "2025-06-01T12:00:00Z" });
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "0 2 * * *",
      random_delay_seconds: 3600,
    });
    const due = Date.parse("2025-06-02T02:00:00Z");
    // Step a minute at a time through the hour after the due time.
    let queuedAt: number | undefined;
    setClock(hub, "2025-06-02T01:59:00Z");
    for (let i = 0; i <= 61 && queuedAt === undefined; i++) {
      hub.tick(MINUTE);
      if ((await runScheduler(hub.deps)).length > 0) queuedAt = hub.now();
    }
    // The first minute step at or after due + the plan's delay (derived from plan and due time).
    const delay = randomDelayMs({ id: plan.id, randomDelaySeconds: 3600 }, due);
    expect(delay).toBeGreaterThan(0);
    expect(queuedAt).toBe(due + Math.ceil(delay / MINUTE) * MINUTE);
    const [job] = await jobsOfPlan(hub, plan.id);
    expect(job?.scheduledFor).toBe(due);
    expect(await auditActions(hub, "plan.missed")).toEqual([]);
  });
});

describe("several hub replicas on one database", () => {
  // Both passes in turn, not at once: two SQLite stores in one process must not overlap a
  // transaction (db/sqlite/store.ts). The race itself is the store conformance suite's
  // (claimDueRun across connections, PostgreSQL included).
  test("two hubs running the scheduler on one database queue each due time once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "borgctl-replicas-"));
    dirs.push(dir);
    const path = join(dir, "hub.sqlite");
    const one = await setup({ at: "2025-06-01T12:00:00Z", path });
    const two = createTestHub({ path });
    hubs.push(two);
    const plan = await createPlan(one.hub, one.admin, {
      repository_id: one.repositoryId,
      schedule: "*/10 * * * *",
    });
    for (let i = 0; i < 3; i++) {
      one.hub.tick(10 * MINUTE);
      setClock(two, new Date(one.hub.now()).toISOString());
      // Alternate which replica comes first.
      const [a, b] = i % 2 === 0 ? [one.hub, two] : [two, one.hub];
      const outcomes = [...(await runScheduler(a.deps)), ...(await runScheduler(b.deps))];
      expect(outcomes.map((o) => o.outcome)).toEqual(["queued"]);
      const queued = outcomes[0];
      if (queued?.outcome === "queued") await finish(one.hub, one.agent, queued.jobId);
    }
    expect(await jobsOfPlan(one.hub, plan.id)).toHaveLength(3);
  });
});

test("ON_TIME_MS is longer than the hub's pass interval (15 s), so a normal pass is never late", () => {
  expect(ON_TIME_MS).toBeGreaterThan(4 * 15_000);
});
