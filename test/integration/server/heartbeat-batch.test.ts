/**
 * Heartbeats that change nothing but last_seen_at are coalesced into one write per
 * second (services/heartbeat-batch.ts); everything else a heartbeat does stays immediate,
 * and a deferred one is never lost to a status change made meanwhile.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { Store } from "../../../src/server/db/store.ts";
import { flushHeartbeats } from "../../../src/server/services/heartbeat-batch.ts";
import { sweepOfflineAgents } from "../../../src/server/services/machines.ts";
import { PROTOCOL_VERSION } from "../../../src/shared/protocol/version.ts";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine, type TestAgent } from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
const writes = { full: 0, touched: 0 };
const store = hub.deps.store;
const machines = new Proxy(store.machines, {
  get: (target, key, receiver) => {
    if (key === "recordHeartbeat") writes.full++;
    if (key === "touchOnline") writes.touched++;
    return Reflect.get(target, key, receiver);
  },
});
hub.deps.store = new Proxy(store, {
  get: (target, key, receiver) =>
    key === "machines" ? machines : (Reflect.get(target, key, receiver) as Store[keyof Store]),
});
let admin: string;
afterAll(() => hub.close());

const heartbeat = (agent: TestAgent, extra: Record<string, unknown> = {}) =>
  hub.request("POST", "/api/agents/heartbeat", {
    agentToken: agent.token,
    body: { agent_id: agent.agentId, protocol_version: PROTOCOL_VERSION, hostname: "h", ...extra },
  });
const stored = async (agent: TestAgent) => store.machines.byId(agent.machineId);
const shown = async (agent: TestAgent) =>
  (await hub.request("GET", `/api/managed-machines/${agent.machineId}`, { token: admin })).body as {
    status: string;
    last_seen_at: string | null;
  };
const statusAudits = async (agent: TestAgent) =>
  (await store.audit.list({ limit: 100, action: "agent.status" }))
    .filter((e) => e.target === `machine:${agent.machineId}`)
    .map((e) => `${e.details?.from}→${e.details?.to}`)
    .reverse(); // oldest first

describe("coalesced heartbeats", () => {
  test("the same facts again: no write until the flush, which writes all of them at once", async () => {
    admin = await hub.login();
    const agents = [await addAgentMachine(hub), await addAgentMachine(hub)];
    for (const agent of agents) expect((await heartbeat(agent)).status).toBe(200);
    const first = hub.now();
    hub.tick(30_000);
    const before = { ...writes };
    for (const agent of agents) expect((await heartbeat(agent)).status).toBe(200);
    expect(writes.full - before.full).toBe(0);
    // The database still has the first heartbeat; what the API shows has the second.
    expect((await stored(agents[0] as TestAgent))?.lastSeenAt).toBe(first);
    expect(Date.parse((await shown(agents[0] as TestAgent)).last_seen_at ?? "")).toBe(hub.now());

    await flushHeartbeats(hub.deps);
    expect(writes.touched - before.touched).toBe(1);
    for (const agent of agents) expect((await stored(agent))?.lastSeenAt).toBe(hub.now());
  });

  test("new facts, labels or running jobs take the full path at once", async () => {
    const agent = await addAgentMachine(hub);
    await heartbeat(agent);
    for (const extra of [
      { hostname: "renamed" },
      { hostname: "renamed", labels: { site: "b" } },
      { hostname: "renamed", labels: { site: "b" }, running_job_ids: [999] },
    ]) {
      const before = writes.full;
      expect((await heartbeat(agent, extra)).status).toBe(200);
      expect(writes.full - before).toBe(1);
    }
    expect((await stored(agent))?.hostname).toBe("renamed");
    expect((await stored(agent))?.labels).toEqual({ site: "b" });
  });

  test("disabled before the flush: the deferred heartbeat does not bring it back", async () => {
    const agent = await addAgentMachine(hub);
    await heartbeat(agent);
    hub.tick(30_000);
    await heartbeat(agent); // deferred
    const disabled = await hub.request("POST", `/api/managed-machines/${agent.machineId}/disable`, {
      token: admin,
    });
    expect(disabled.status).toBe(200);
    await flushHeartbeats(hub.deps);
    expect((await stored(agent))?.status).toBe("disabled");
    expect((await heartbeat(agent)).status).toBe(401);
  });

  test("marked offline elsewhere before the flush (another replica's sweep): back online, audited", async () => {
    const agent = await addAgentMachine(hub);
    await heartbeat(agent);
    hub.tick(30_000);
    await heartbeat(agent); // deferred
    await store.machines.transition(agent.machineId, ["online"], "offline", hub.now());
    await flushHeartbeats(hub.deps);
    expect((await stored(agent))?.status).toBe("online");
    expect((await stored(agent))?.lastSeenAt).toBe(hub.now());
    expect(await statusAudits(agent)).toEqual(["offline→online"]);
  });

  test("the offline sweep counts the deferred heartbeats, and a silent agent still goes offline", async () => {
    const alive = await addAgentMachine(hub);
    const silent = await addAgentMachine(hub);
    await heartbeat(alive);
    await heartbeat(silent);
    hub.tick(90_000);
    await heartbeat(alive); // deferred, not yet written
    hub.tick(31_000);
    const swept = (await sweepOfflineAgents(hub.deps)).map((m) => m.id);
    expect(swept).toContain(silent.machineId);
    expect(swept).not.toContain(alive.machineId);
    expect((await stored(alive))?.status).toBe("online");
    // The swept agent's next heartbeat takes the full path: online again, audited.
    expect((await heartbeat(silent)).status).toBe(200);
    expect((await stored(silent))?.status).toBe("online");
    expect(await statusAudits(silent)).toEqual(["online→offline", "offline→online"]);
  });
});
