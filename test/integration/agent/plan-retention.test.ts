/**
 * Two plans on one repository against the real borg: the scheduler (on the hub's fake
 * clock) queues each plan's backup at its due times, the real agent runs it, and the hub
 * chains the plan's prune (scoped to the plan's archive prefix), compact and check. Each
 * plan's prune keeps its own number of archives and never touches the other plan's, nor
 * the archives of backups started by hand.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runScheduler } from "../../../src/server/services/scheduler.ts";
import { Job, JobLogsResponse, Machine, Plan } from "../../../src/shared/protocol/api.ts";
import { enrollAgent, type TestAgentProcess, waitForJob } from "../../helpers/agent.ts";
import { createTestHub } from "../../helpers/hub.ts";

const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let agent: TestAgentProcess;
let running: ReturnType<TestAgentProcess["start"]>;
let repositoryId: number;

const TERMINAL: readonly string[] = ["completed", "completed_with_warnings", "failed", "canceled"];
const MINUTE = 60_000;

beforeAll(async () => {
  hub.tick(Date.parse("2025-06-01T12:00:00Z") - hub.now());
  server = hub.serve();
  const admin = await hub.login();
  agent = await enrollAgent(hub, server.url, admin);
  const sources = join(agent.dir, "sources");
  await mkdir(sources, { recursive: true });
  await writeFile(join(sources, "notes.txt"), "plan retention\n".repeat(100));
  running = agent.start();
  const [machine] = Machine.array().parse(
    (await hub.request("GET", "/api/managed-machines", { token: admin })).body,
  );
  const created = await hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name: "two-plans",
      agent_machine_id: machine?.id,
      location: join(agent.dir, "repos", "two-plans"),
      passphrase: "plan-retention-passphrase",
      source_paths: [sources],
      // Fractions of a second: several backups may fall into one second here.
      archive_name: "{hostname}-{now:%Y-%m-%dT%H:%M:%S.%f}",
    },
  });
  expect(created.status).toBe(201);
  repositoryId = (created.body as { id: number }).id;
  const init = await hub.request("POST", `/api/repositories/${repositoryId}/init`, {
    token: admin,
  });
  expect(init.status).toBe(202);
  const initJob = await waitForJob(hub, admin, (init.body as { job_id: number }).job_id);
  expect(initJob.status).toBe("completed");
}, 60_000);
afterAll(async () => {
  await running?.stop();
  server.stop();
  hub.close();
  await rm(agent.dir, { recursive: true, force: true });
});

async function repositoryJobs(token: string): Promise<Job[]> {
  const { body } = await hub.request("GET", `/api/jobs?repository_id=${repositoryId}&limit=200`, {
    token,
  });
  return Job.array().parse(body).reverse();
}

/**
 * Waits until every job of the repository has ended. A plan's next step is queued while
 * the hub records the previous one's result, so "all ended" means the chain is done.
 */
async function settle(token: string): Promise<Job[]> {
  for (;;) {
    const jobs = await repositoryJobs(token);
    if (jobs.every((j) => TERMINAL.includes(j.status))) return jobs;
    await Bun.sleep(100);
  }
}

async function archiveNames(token: string): Promise<string[]> {
  const queued = await hub.request("POST", `/api/repositories/${repositoryId}/list`, { token });
  expect(queued.status).toBe(202);
  const list = await waitForJob(hub, token, (queued.body as { job_id: number }).job_id);
  expect(list.status).toBe("completed");
  const { body } = await hub.request("GET", `/api/repositories/${repositoryId}/archives`, {
    token,
  });
  return (body as { archives: { name: string }[] }).archives.map((a) => a.name).sort();
}

describe("two plans on one repository, real borg", () => {
  test("each plan's prune keeps its own archives and leaves the other plan's and manual ones", async () => {
    let token = await hub.login();
    const create = async (body: Record<string, unknown>) => {
      const r = await hub.request("POST", "/api/plans", {
        token,
        body: { repository_id: repositoryId, ...body },
      });
      expect(r.status).toBe(201);
      return Plan.parse(r.body);
    };
    const hourly = await create({
      schedule: "0 * * * *",
      retention: { keep_last: 1 },
      check_every_days: 1,
    });
    const halfPast = await create({ schedule: "30 * * * *", retention: { keep_last: 2 } });

    const manual = await hub.request("POST", `/api/repositories/${repositoryId}/backup`, {
      token,
    });
    expect(manual.status).toBe(202);
    await settle(token);

    // Three due times of each plan, alternating: 12:30, 13:00, 13:30, …
    for (let step = 0; step < 6; step++) {
      hub.tick(Date.parse("2025-06-01T12:30:10Z") + step * 30 * MINUTE - hub.now());
      const outcomes = await runScheduler(hub.deps);
      expect(outcomes.map((o) => [o.planId, o.outcome])).toEqual([
        [step % 2 === 0 ? halfPast.id : hourly.id, "queued"],
      ]);
      token = await hub.login(); // the fake clock outruns sessions
      await settle(token);
    }

    const jobs = await settle(token);
    expect(
      jobs.filter((j) => j.status !== "completed").map((j) => [j.type, j.error_message]),
    ).toEqual([]);
    const kinds = (planId: number) => jobs.filter((j) => j.plan_id === planId).map((j) => j.type);
    // The first prune of each plan is followed by its compact (every 7 days by default);
    // the hourly plan checks once a day, after its first compact.
    expect(kinds(hourly.id)).toEqual([
      "backup.create",
      "repo.prune",
      "repo.compact",
      "repo.check",
      "backup.create",
      "repo.prune",
      "backup.create",
      "repo.prune",
    ]);
    expect(kinds(halfPast.id)).toEqual([
      "backup.create",
      "repo.prune",
      "repo.compact",
      "backup.create",
      "repo.prune",
      "backup.create",
      "repo.prune",
    ]);

    const names = await archiveNames(token);
    const of = (prefix: string) => names.filter((n) => n.startsWith(prefix));
    expect(of(hourly.archive_prefix)).toHaveLength(1);
    expect(of(halfPast.archive_prefix)).toHaveLength(2);
    // The manual backup's archive (no plan prefix) is untouched by both plans.
    expect(names.filter((n) => !n.startsWith("plan"))).toHaveLength(1);
    // The newest of each plan is what was kept.
    const newestArchive = (planId: number) =>
      jobs.filter((j) => j.plan_id === planId && j.type === "backup.create").at(-1)?.result
        ?.archive_name;
    expect(of(hourly.archive_prefix)).toEqual([newestArchive(hourly.id) as string]);

    // borg listed only the plan's own archives in its prune: none of the other prefix.
    const lastPrune = jobs.filter((j) => j.plan_id === hourly.id && j.type === "repo.prune").at(-1);
    const logs = JobLogsResponse.parse(
      (await hub.request("GET", `/api/jobs/${lastPrune?.id}/logs`, { token })).body,
    ).logs.map((l) => l.message);
    expect(logs.some((m) => m.includes(hourly.archive_prefix))).toBe(true);
    expect(logs.some((m) => m.includes(halfPast.archive_prefix))).toBe(false);
  }, 180_000);
});
