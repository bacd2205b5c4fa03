/**
 * What a plan runs after its backup (services/plan-chain.ts), against the real app and
 * SQLite on the hub's fake clock, the agent's side played through the agent API: the
 * chained prune (its keep rules and prefix), no prune after a failed backup, the compact
 * and check cadences, and one chain per result however often it is delivered. The same
 * chain against the real borg is test/integration/agent/plan-retention.test.ts.
 */

import { afterEach, describe, expect, test } from "bun:test";
import type { JobRow } from "../../../src/server/db/records.ts";
import { runScheduler } from "../../../src/server/services/scheduler.ts";
import {
  JOB_KINDS,
  PLAN_PRUNE_CAPABILITY,
  type PruneBlock,
} from "../../../src/shared/protocol/agent.ts";
import { DEFAULT_ARCHIVE_NAME, Job, Plan } from "../../../src/shared/protocol/api.ts";
import { createTestHub, type TestHub } from "../../helpers/hub.ts";
import { addAgentMachine, createRepository, type TestAgent } from "../../helpers/hub-fixtures.ts";

const DAY = 24 * 60 * 60_000;
const CAPABLE = [...JOB_KINDS, PLAN_PRUNE_CAPABILITY];

const hubs: TestHub[] = [];
afterEach(() => {
  for (const hub of hubs.splice(0)) hub.close();
});

async function setup(capabilities: string[] = CAPABLE) {
  const hub = createTestHub();
  hubs.push(hub);
  hub.tick(Date.parse("2025-06-01T12:00:00Z") - hub.now());
  const admin = await hub.login();
  const agent = await addAgentMachine(hub, { capabilities });
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

const agentPost = (hub: TestHub, agent: TestAgent, path: string, body?: unknown) =>
  hub.request("POST", `/api/agents/jobs${path}`, { agentToken: agent.token, body });

/** Claims and starts a job as its agent would. */
async function claimAndStart(hub: TestHub, agent: TestAgent, jobId: number) {
  for (const [path, body] of [
    [`/${jobId}/claim`, undefined],
    [`/${jobId}/start`, {}],
  ] as const) {
    const r = await agentPost(hub, agent, path, body);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`);
  }
}

/** Runs a job to completion as its agent would; a backup reports an archive. */
async function complete(hub: TestHub, agent: TestAgent, job: JobRow) {
  await claimAndStart(hub, agent, job.id);
  const result =
    job.jobKind === "backup.create"
      ? { return_code: 0, archive_name: `archive-${job.id}` }
      : { return_code: 0 };
  const r = await agentPost(hub, agent, `/${job.id}/complete`, { result });
  if (r.status !== 200) throw new Error(`complete: ${r.status} ${r.text}`);
}

/** Completes every queued job of the plan, oldest first, until none is left (the chain). */
async function drain(hub: TestHub, agent: TestAgent, planId: number): Promise<string[]> {
  const ran: string[] = [];
  for (;;) {
    const queued = (await jobsOfPlan(hub, planId)).find((j) => j.status === "queued");
    if (!queued) return ran;
    await complete(hub, agent, queued);
    ran.push(queued.jobKind);
  }
}

describe("the chain after a plan's backup", () => {
  test("a completed backup chains a prune with the plan's keep rules, scoped to its prefix; then compact", async () => {
    const { hub, admin, agent, repositoryId } = await setup();
    const retention = { keep_last: 2, keep_daily: 7, keep_weekly: 4, keep_monthly: 12 };
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "0 2 * * *",
      timezone: "Europe/Berlin",
      retention,
    });
    expect(plan.prune_after_backup).toBe(true);
    expect(plan.archive_prefix).toBe(`plan${plan.id}-`);
    hub.tick(Date.parse("2025-06-02T00:00:05Z") - hub.now());
    const [outcome] = await runScheduler(hub.deps);
    expect(outcome?.outcome).toBe("queued");
    const [backup] = await jobsOfPlan(hub, plan.id);
    if (backup?.payload.job_kind !== "backup.create") throw new Error("no backup");
    // The plan's archives are named behind its prefix: the repository's template follows.
    expect(backup.payload.backup.archive_name).toBe(`plan${plan.id}-${DEFAULT_ARCHIVE_NAME}`);

    expect(await drain(hub, agent, plan.id)).toEqual([
      "backup.create",
      "repo.prune",
      "repo.compact",
    ]);
    const jobs = await jobsOfPlan(hub, plan.id);
    const prune = jobs.find((j) => j.jobKind === "repo.prune");
    expect((prune?.payload as { prune?: PruneBlock } | undefined)?.prune).toEqual({
      ...retention,
      dry_run: false,
      archive_prefix: `plan${plan.id}-`,
    });
    // Every chained job is the plan's and carries the due time of the backup it followed.
    expect(jobs.map((j) => [j.triggeredBy, j.scheduledFor])).toEqual(
      jobs.map(() => [`plan:${plan.id}`, Date.parse("2025-06-02T00:00:00Z")]),
    );
    // The job JSON shows plan_id and scheduled_for (a new session: the clock moved on).
    const shown = Job.parse(
      (await hub.request("GET", `/api/jobs/${prune?.id}`, { token: await hub.login() })).body,
    );
    expect(shown.plan_id).toBe(plan.id);
    expect(shown.scheduled_for).toBe("2025-06-02T00:00:00.000Z");
  });

  test("a failed backup does not prune; a canceled one neither", async () => {
    const { hub, admin, agent, repositoryId } = await setup();
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "@daily",
      retention: { keep_daily: 7 },
      check_every_days: 1,
    });
    const run = await hub.request("POST", `/api/plans/${plan.id}/run`, { token: admin });
    expect(run.status).toBe(202);
    const [backup] = await jobsOfPlan(hub, plan.id);
    if (!backup) throw new Error("no backup");
    await claimAndStart(hub, agent, backup.id);
    const failed = await agentPost(hub, agent, `/${backup.id}/fail`, {
      error_message: "borg create failed",
      return_code: 2,
    });
    expect(failed.status).toBe(200);
    expect((await jobsOfPlan(hub, plan.id)).map((j) => [j.jobKind, j.status])).toEqual([
      ["backup.create", "failed"],
    ]);

    await hub.request("POST", `/api/plans/${plan.id}/run`, { token: admin });
    const second = (await jobsOfPlan(hub, plan.id)).at(-1);
    const canceled = await hub.request("POST", `/api/jobs/${second?.id}/cancel`, { token: admin });
    expect(canceled.status).toBe(202);
    expect((await jobsOfPlan(hub, plan.id)).map((j) => [j.jobKind, j.status])).toEqual([
      ["backup.create", "failed"],
      ["backup.create", "canceled"],
    ]);
  });

  test("a result delivered twice, or by two hubs at once, chains once", async () => {
    const { hub, admin, agent, repositoryId } = await setup();
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "@daily",
      retention: { keep_last: 3 },
    });
    await hub.request("POST", `/api/plans/${plan.id}/run`, { token: admin });
    const [backup] = await jobsOfPlan(hub, plan.id);
    if (!backup) throw new Error("no backup");
    await claimAndStart(hub, agent, backup.id);
    const body = { result: { return_code: 0, archive_name: "a" } };
    const answers = await Promise.all([
      agentPost(hub, agent, `/${backup.id}/complete`, body),
      agentPost(hub, agent, `/${backup.id}/complete`, body),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const again = await agentPost(hub, agent, `/${backup.id}/complete`, body);
    expect(again.status).toBe(409);
    expect((await jobsOfPlan(hub, plan.id)).map((j) => j.jobKind)).toEqual([
      "backup.create",
      "repo.prune",
    ]);
  });

  test("compact runs after a prune every compact_every_days, counted in due times", async () => {
    const { hub, admin, agent, repositoryId } = await setup();
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "0 3 * * *",
      retention: { keep_daily: 7 },
      compact_every_days: 3,
    });
    const chains: string[][] = [];
    for (let day = 2; day <= 8; day++) {
      // Each backup finishes at a different time of day; the cadence does not drift with it.
      hub.tick(Date.parse(`2025-06-0${day}T03:00:00Z`) + (day % 3) * 60_000 - hub.now());
      expect((await runScheduler(hub.deps)).map((o) => o.outcome)).toEqual(["queued"]);
      chains.push(await drain(hub, agent, plan.id));
    }
    const withCompact = chains.map((kinds) => kinds.includes("repo.compact"));
    // June 2, then every 3 days: June 5 and June 8.
    expect(withCompact).toEqual([true, false, false, true, false, false, true]);
    expect(chains.every((kinds) => kinds[1] === "repo.prune")).toBe(true);
  });

  test("check runs every check_every_days with check_verify_data, also without retention", async () => {
    const { hub, admin, agent, repositoryId } = await setup();
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "0 1 * * *",
      check_every_days: 2,
      check_verify_data: true,
    });
    expect(plan.prune_after_backup).toBe(false);
    const chains: string[][] = [];
    for (let day = 2; day <= 6; day++) {
      hub.tick(Date.parse(`2025-06-0${day}T01:00:30Z`) - hub.now());
      await runScheduler(hub.deps);
      chains.push(await drain(hub, agent, plan.id));
    }
    expect(chains).toEqual([
      ["backup.create", "repo.check"],
      ["backup.create"],
      ["backup.create", "repo.check"],
      ["backup.create"],
      ["backup.create", "repo.check"],
    ]);
    const check = (await jobsOfPlan(hub, plan.id)).find((j) => j.jobKind === "repo.check");
    expect(check?.payload).toMatchObject({
      check: { repository_only: false, verify_data: true },
    });
  });

  test("check follows the compact when both are due; a failed prune ends the chain", async () => {
    const { hub, admin, agent, repositoryId } = await setup();
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "@daily",
      retention: { keep_daily: 7 },
      check_every_days: 30,
    });
    await hub.request("POST", `/api/plans/${plan.id}/run`, { token: admin });
    expect(await drain(hub, agent, plan.id)).toEqual([
      "backup.create",
      "repo.prune",
      "repo.compact",
      "repo.check",
    ]);
    hub.tick(DAY);
    const run = await hub.request("POST", `/api/plans/${plan.id}/run`, {
      token: await hub.login(),
    });
    expect(run.status).toBe(202);
    const backup = (await jobsOfPlan(hub, plan.id)).at(-1);
    if (!backup) throw new Error("no backup");
    await complete(hub, agent, backup);
    const prune = (await jobsOfPlan(hub, plan.id)).at(-1);
    expect(prune?.jobKind).toBe("repo.prune");
    if (!prune) throw new Error("no prune");
    await claimAndStart(hub, agent, prune.id);
    await agentPost(hub, agent, `/${prune.id}/fail`, { error_message: "lock timeout" });
    expect((await jobsOfPlan(hub, plan.id)).at(-1)?.id).toBe(prune.id);
  });

  test("an agent that can't scope a prune to the plan's prefix gets none: plan.prune_skipped", async () => {
    const { hub, admin, agent, repositoryId } = await setup(["backup.create", "repo.prune"]);
    const plan = await createPlan(hub, admin, {
      repository_id: repositoryId,
      schedule: "@daily",
      retention: { keep_daily: 7 },
    });
    await hub.request("POST", `/api/plans/${plan.id}/run`, { token: admin });
    expect(await drain(hub, agent, plan.id)).toEqual(["backup.create"]);
    const [skipped] = await hub.deps.store.audit.list({ limit: 10, action: "plan.prune_skipped" });
    expect(skipped?.target).toBe(`plan:${plan.id}`);
    expect(JSON.stringify(skipped?.details)).toContain("upgrade");
  });
});
