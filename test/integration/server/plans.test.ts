/** /api/plans: records, validation (400 naming the field, nothing stored), run now. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { JobAccepted, Plan, PlanPreview } from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine, createRepository, userWithRole } from "../../helpers/hub-fixtures.ts";
import { databaseSnapshot } from "../../helpers/route-catalog.ts";

const hub = createTestHub();
let admin: string;
let operator: string;
let repositoryId: number;
let revokedRepositoryId: number;

beforeAll(async () => {
  hub.tick(Date.parse("2025-03-28T12:00:00Z") - hub.now());
  admin = await hub.login();
  operator = await userWithRole(hub, "operator");
  const agent = await addAgentMachine(hub);
  repositoryId = (await createRepository(hub, admin, agent.machineId)).id;
  const doomed = await addAgentMachine(hub);
  revokedRepositoryId = (await createRepository(hub, admin, doomed.machineId)).id;
  const revoked = await hub.request("POST", `/api/managed-machines/${doomed.machineId}/revoke`, {
    token: admin,
  });
  expect(revoked.status).toBe(200);
});
afterAll(() => hub.close());

const post = (body: unknown) => hub.request("POST", "/api/plans", { token: operator, body });

describe("create and read", () => {
  test("a nightly Berlin plan: defaults, description, the next 5 runs across the DST change", async () => {
    const created = await post({
      repository_id: repositoryId,
      schedule: "0 2 * * *",
      timezone: "Europe/Berlin",
      retention: { keep_daily: 7, keep_weekly: 4, keep_monthly: 12 },
    });
    expect(created.status).toBe(201);
    const plan = Plan.parse(created.body);
    expect(plan).toMatchObject({
      repository_id: repositoryId,
      name: "every day at 02:00 (Europe/Berlin)",
      description: "every day at 02:00 (Europe/Berlin)",
      enabled: true,
      prune_after_backup: true,
      missed_run: "run_once",
      random_delay_seconds: 0,
      check_verify_data: false,
      last_run_at: null,
      last_job_id: null,
    });
    expect(plan.next_runs).toEqual([
      "2025-03-29T01:00:00.000Z", // 02:00 CET
      "2025-03-30T01:00:00.000Z", // 02:00 does not exist that day: 03:00 CEST
      "2025-03-31T00:00:00.000Z", // 02:00 CEST
      "2025-04-01T00:00:00.000Z",
      "2025-04-02T00:00:00.000Z",
    ]);
    expect(plan.next_run_at).toBe(plan.next_runs[0] as string);
    const read = await hub.request("GET", `/api/plans/${plan.id}`, { token: operator });
    expect(Plan.parse(read.body)).toEqual(plan);
    const listed = await hub.request("GET", `/api/plans?repository_id=${repositoryId}`, {
      token: operator,
    });
    expect((listed.body as Plan[]).map((p) => p.id)).toContain(plan.id);
    const other = await hub.request("GET", `/api/plans?repository_id=${revokedRepositoryId}`, {
      token: operator,
    });
    expect(other.body).toEqual([]);
  });

  test("descriptions of the common shapes", async () => {
    const cases: [string, string][] = [
      ["@hourly", "every hour (UTC)"],
      ["15 * * * *", "every hour at minute 15 (UTC)"],
      ["*/30 * * * *", "every 30 minutes (UTC)"],
      ["30 4 * * 1", "every Monday at 04:30 (UTC)"],
      ["@weekly", "every Sunday at 00:00 (UTC)"],
      ["0 3 1 * *", "every month on day 1 at 03:00 (UTC)"],
      ["0 2 * * 1-5", 'cron "0 2 * * 1-5" (UTC)'],
    ];
    for (const [schedule, description] of cases) {
      const created = await post({ repository_id: repositoryId, schedule });
      expect({ schedule, description: Plan.parse(created.body).description }).toEqual({
        schedule,
        description,
      });
    }
  });
});

describe("refused: 400 naming the field, nothing stored", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["an invalid cron", { schedule: "61 * * * *" }, "schedule"],
    ["a cron with 3 fields", { schedule: "* * *" }, "schedule"],
    ["7 fields (years)", { schedule: "0 0 2 * * * 2030" }, "schedule"],
    ["a schedule that never comes", { schedule: "0 0 30 2 *" }, "schedule"],
    ["an unknown timezone", { schedule: "@daily", timezone: "Mars/Olympus" }, "timezone"],
    ["retention with no keep rule", { schedule: "@daily", retention: {} }, "retention"],
    [
      "retention whose rules are all zero",
      { schedule: "@daily", retention: { keep_daily: 0 } },
      "retention",
    ],
    [
      "prune without retention",
      { schedule: "@daily", prune_after_backup: true },
      "prune_after_backup",
    ],
    ["an unknown field", { schedule: "@daily", keep_daily: 7 }, ""],
  ];
  for (const [label, body, field] of cases) {
    test(label, async () => {
      const before = await databaseSnapshot(hub);
      const response = await post({ repository_id: repositoryId, ...body });
      expect(response.status).toBe(400);
      const error = ErrorBody.parse(response.body);
      expect(error.code).toBe("validation_failed");
      if (field) {
        expect(error.error).toContain(field);
        expect((error.details as { path: string }[]).map((d) => d.path)).toContain(field);
      }
      expect(await databaseSnapshot(hub)).toEqual(before);
    });
  }

  test("a plan for a repository whose machine is revoked", async () => {
    const before = await databaseSnapshot(hub);
    const response = await post({ repository_id: revokedRepositoryId, schedule: "@daily" });
    expect(response.status).toBe(400);
    const error = ErrorBody.parse(response.body);
    expect(error.error).toContain("repository_id");
    expect(error.error).toContain("revoked");
    expect(await databaseSnapshot(hub)).toEqual(before);
  });

  test("a PATCH to an invalid schedule or timezone changes nothing", async () => {
    const plan = Plan.parse((await post({ repository_id: repositoryId, schedule: "@daily" })).body);
    for (const [body, field] of [
      [{ schedule: "nope" }, "schedule"],
      [{ timezone: "Europe/Nowhere" }, "timezone"],
      [{ retention: { keep_last: 0 } }, "retention"],
    ] as const) {
      const before = await databaseSnapshot(hub);
      const response = await hub.request("PATCH", `/api/plans/${plan.id}`, {
        token: operator,
        body,
      });
      expect({ field, status: response.status }).toEqual({ field, status: 400 });
      expect(ErrorBody.parse(response.body).error).toContain(field);
      expect(await databaseSnapshot(hub)).toEqual(before);
    }
  });
});

describe("change, run now, delete", () => {
  test("PATCH: retention on turns pruning on, off turns it off; the description follows the schedule", async () => {
    const plan = Plan.parse((await post({ repository_id: repositoryId, schedule: "@daily" })).body);
    expect(plan.prune_after_backup).toBe(false);
    const patch = (body: unknown) =>
      hub.request("PATCH", `/api/plans/${plan.id}`, { token: operator, body });
    const on = Plan.parse(
      (await patch({ retention: { keep_last: 10 }, schedule: "30 1 * * *" })).body,
    );
    expect(on).toMatchObject({
      retention: { keep_last: 10 },
      prune_after_backup: true,
      description: "every day at 01:30 (UTC)",
    });
    const off = Plan.parse((await patch({ retention: null })).body);
    expect(off).toMatchObject({ retention: null, prune_after_backup: false });
  });

  test("run now queues the plan's backup (plan_id set, no due time); a second one is 409", async () => {
    const agent = await addAgentMachine(hub);
    const repo = (await createRepository(hub, admin, agent.machineId)).id;
    const plan = Plan.parse((await post({ repository_id: repo, schedule: "@daily" })).body);
    const run = await hub.request("POST", `/api/plans/${plan.id}/run`, { token: operator });
    expect(run.status).toBe(202);
    const { job_id } = JobAccepted.parse(run.body);
    expect(await hub.deps.store.jobs.byId(job_id)).toMatchObject({
      jobKind: "backup.create",
      planId: plan.id,
      scheduledFor: null,
      repositoryId: repo,
    });
    const read = Plan.parse(
      (await hub.request("GET", `/api/plans/${plan.id}`, { token: operator })).body,
    );
    expect(read.last_job_id).toBe(job_id);
    expect(read.last_run_at).toBeNull();
    const again = await hub.request("POST", `/api/plans/${plan.id}/run`, { token: operator });
    expect(again.status).toBe(409);
  });

  test("DELETE removes the plan; its jobs stay", async () => {
    const plan = Plan.parse((await post({ repository_id: repositoryId, schedule: "@daily" })).body);
    expect((await hub.request("DELETE", `/api/plans/${plan.id}`, { token: operator })).status).toBe(
      204,
    );
    expect((await hub.request("GET", `/api/plans/${plan.id}`, { token: operator })).status).toBe(
      404,
    );
    expect((await hub.request("DELETE", `/api/plans/${plan.id}`, { token: operator })).status).toBe(
      404,
    );
  });
});

describe("preview", () => {
  const preview = (params: Record<string, string>) =>
    hub.request("GET", `/api/plans/preview?${new URLSearchParams(params)}`, { token: admin });

  test("the next 5 due times and the words, as a saved plan would have them", async () => {
    const answer = await preview({ schedule: "0 2 * * *", timezone: "Europe/Berlin" });
    expect(answer.status).toBe(200);
    expect(PlanPreview.parse(answer.body)).toEqual({
      next_runs: [
        "2025-03-29T01:00:00.000Z",
        "2025-03-30T01:00:00.000Z",
        "2025-03-31T00:00:00.000Z",
        "2025-04-01T00:00:00.000Z",
        "2025-04-02T00:00:00.000Z",
      ],
      description: "every day at 02:00 (Europe/Berlin)",
    });
  });

  test("a bad schedule or timezone is a 400 naming it", async () => {
    for (const [params, field] of [
      [{ schedule: "61 * * * *" }, "schedule"],
      [{ schedule: "0 2 * * *", timezone: "Mars/Olympus" }, "timezone"],
      [{ timezone: "UTC" }, "schedule"],
    ] as const) {
      const answer = await preview(params);
      expect(answer.status).toBe(400);
      expect(ErrorBody.parse(answer.body).error).toContain(field);
    }
  });
});
