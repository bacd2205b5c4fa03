/**
 * A hub that was down longer than a lease (an upgrade, a reboot) must not fail every
 * running backup as "agent lost" the moment it starts: its agents could not renew while
 * it was gone. At start it gives held jobs a full lease; an agent that is really gone is
 * still found out one lease later.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  renewLeasesAfterOutage,
  sweepExpiredLeases,
} from "../../../src/server/services/job-sweeper.ts";
import { JobAccepted } from "../../../src/shared/protocol/api.ts";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine, createRepository, type TestAgent } from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
let admin: string;
let agent: TestAgent;

beforeAll(async () => {
  admin = await hub.login();
  agent = await addAgentMachine(hub);
});
afterAll(() => hub.close());

const call = (method: string, path: string, body?: unknown) =>
  hub.request(method, `/api/agents/jobs${path}`, { agentToken: agent.token, body });

async function runningJob(): Promise<number> {
  const repo = await createRepository(hub, admin, agent.machineId, {
    name: `r-${Math.random().toString(36).slice(2)}`,
  });
  const queued = await hub.request("POST", `/api/repositories/${repo.id}/backup`, { token: admin });
  const id = JobAccepted.parse(queued.body).job_id;
  expect((await call("POST", `/${id}/claim`)).status).toBe(200);
  expect((await call("POST", `/${id}/start`, {})).status).toBe(200);
  return id;
}

describe("leases across a hub outage", () => {
  test("a job running through a 20-minute outage survives the restart and can finish", async () => {
    const id = await runningJob();
    hub.tick(20 * 60_000); // the hub is down: no renewal can reach it
    expect(await renewLeasesAfterOutage(hub.deps)).toBe(1);
    expect((await sweepExpiredLeases(hub.deps)).failed).toEqual([]);
    // The agent reconnects and delivers its queued result.
    const done = await call("POST", `/${id}/complete`, { result: { return_code: 0 } });
    expect(done.status).toBe(200);
  });

  test("an agent that never comes back is still found out one lease after the restart", async () => {
    const id = await runningJob();
    hub.tick(20 * 60_000);
    await renewLeasesAfterOutage(hub.deps);
    hub.tick(hub.deps.settings.leaseMs + 1000);
    expect((await sweepExpiredLeases(hub.deps)).failed).toEqual([id]);
  });
});
