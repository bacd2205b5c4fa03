/**
 * Optional source paths on the hub: validated like the required ones (a clear 400 that
 * changes nothing), admin only, stored and shown, and sent in a backup's payload only to
 * an agent that reports OPTIONAL_SOURCES_CAPABILITY (an older one is refused a backup
 * with optional sources, by hand or by a plan, rather than backing up less in silence).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runScheduler } from "../../../src/server/services/scheduler.ts";
import {
  ClaimResponse,
  JOB_KINDS,
  OPTIONAL_SOURCES_CAPABILITY,
} from "../../../src/shared/protocol/agent.ts";
import { JobAccepted, Repository } from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { createTestHub } from "../../helpers/hub.ts";
import {
  addAgentMachine,
  createRepository,
  type TestAgent,
  userWithRole,
} from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
let admin: string;
let operator: string;
let current: TestAgent;
let old: TestAgent;

beforeAll(async () => {
  admin = await hub.login();
  operator = await userWithRole(hub, "operator");
  current = await addAgentMachine(hub, {
    capabilities: [...JOB_KINDS, OPTIONAL_SOURCES_CAPABILITY],
  });
  // An agent from before optional sources: it reports every kind but not the capability.
  old = await addAgentMachine(hub, { capabilities: [...JOB_KINDS] });
});
afterAll(() => hub.close());

const repositoryCount = async () => (await hub.deps.store.repositories.list()).length;

describe("optional source paths: validation", () => {
  test("a relative optional path is a 400 naming it; nothing is created", async () => {
    const before = await repositoryCount();
    const response = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: {
        name: "relative-optional",
        agent_machine_id: current.machineId,
        location: "/srv/borg/relative-optional",
        encryption: "none",
        source_paths: ["/home"],
        optional_source_paths: ["/media/usb", "media/usb"],
      },
    });
    expect(response.status).toBe(400);
    const error = ErrorBody.parse(response.body);
    expect(error.error).toContain("optional_source_paths.1");
    expect(error.details).toEqual([
      { path: "optional_source_paths.1", message: expect.stringContaining("absolute") },
    ]);
    expect(await repositoryCount()).toBe(before);
  });

  test("a path both required and optional is a 400, on create and on PATCH", async () => {
    const body = {
      name: "overlap",
      agent_machine_id: current.machineId,
      location: "/srv/borg/overlap",
      encryption: "none",
      source_paths: ["/home"],
      optional_source_paths: ["/home"],
    };
    const created = await hub.request("POST", "/api/repositories", { token: admin, body });
    expect(created.status).toBe(400);
    expect(ErrorBody.parse(created.body).error).toContain(
      "optional_source_paths.0 is already a required source path",
    );
    const repo = await createRepository(hub, admin, current.machineId, {
      optional_source_paths: ["/media/usb"],
    });
    // Making the optional path required too (source_paths only) is caught against the stored list.
    const patched = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: admin,
      body: { source_paths: ["/home", "/media/usb"] },
    });
    expect(patched.status).toBe(400);
    const after = Repository.parse(
      (await hub.request("GET", `/api/repositories/${repo.id}`, { token: admin })).body,
    );
    expect(after.source_paths).toEqual(["/home", "/etc"]);
    expect(after.optional_source_paths).toEqual(["/media/usb"]);
  });

  test("stored and shown; an admin changes them, an operator may not (403)", async () => {
    const repo = await createRepository(hub, admin, current.machineId);
    expect(repo.optional_source_paths).toEqual([]);
    const refused = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: operator,
      body: { optional_source_paths: ["/media/usb"] },
    });
    expect(refused.status).toBe(403);
    const patched = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: admin,
      body: { optional_source_paths: ["/media/usb", "/opt/games"] },
    });
    expect(patched.status).toBe(200);
    expect(Repository.parse(patched.body).optional_source_paths).toEqual([
      "/media/usb",
      "/opt/games",
    ]);
  });
});

describe("optional source paths: the backup payload", () => {
  async function claimBackup(agent: TestAgent, repositoryId: number) {
    const queued = await hub.request("POST", `/api/repositories/${repositoryId}/backup`, {
      token: operator,
    });
    expect(queued.status).toBe(202);
    const id = JobAccepted.parse(queued.body).job_id;
    const claim = await hub.request("POST", `/api/agents/jobs/${id}/claim`, {
      agentToken: agent.token,
    });
    expect(claim.status).toBe(200);
    return ClaimResponse.parse(claim.body).job;
  }

  test("an agent that reports the capability gets them beside the required ones", async () => {
    const repo = await createRepository(hub, admin, current.machineId, {
      optional_source_paths: ["/media/usb"],
    });
    const payload = await claimBackup(current, repo.id);
    expect(payload.backup).toMatchObject({
      source_paths: ["/home", "/etc"],
      optional_source_paths: ["/media/usb"],
    });
  });

  test("an older agent: a backup with optional sources is refused (409), by hand and by a plan; without them it runs as before", async () => {
    const repo = await createRepository(hub, admin, old.machineId, {
      optional_source_paths: ["/media/usb"],
    });
    const refused = await hub.request("POST", `/api/repositories/${repo.id}/backup`, {
      token: operator,
    });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain("too old for optional source paths");
    const plan = await hub.request("POST", "/api/plans", {
      token: operator,
      body: { repository_id: repo.id, schedule: "@daily" },
    });
    expect(plan.status).toBe(201);
    const run = await hub.request("POST", `/api/plans/${(plan.body as { id: number }).id}/run`, {
      token: operator,
    });
    expect(run.status).toBe(409);
    expect(run.text).toContain("too old for optional source paths");

    // Without optional sources nothing changes for the older agent, nor in its payload.
    const plain = await createRepository(hub, admin, old.machineId);
    const payload = await claimBackup(old, plain.id);
    expect(payload.backup).not.toHaveProperty("optional_source_paths");

    // When the plan comes due, the scheduler skips it (the last step: sessions expire), saying why, and queues nothing.
    hub.tick(25 * 60 * 60 * 1000);
    const outcomes = await runScheduler(hub.deps);
    expect(outcomes).toContainEqual(
      expect.objectContaining({ outcome: "skipped", reason: "agent_too_old" }),
    );
    expect(await hub.deps.store.jobs.list({ repositoryId: repo.id, limit: 10 })).toEqual([]);
  });
});
