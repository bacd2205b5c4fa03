/**
 * The hub's remembered credentials and idle agents, kept fresh in bulk by the sweep
 * (services/trust-refresh.ts): a steady agent's requests never look their credential or
 * queue up alone once the trust runs out, a machine disabled where this process could not
 * hear of it is not renewed, and an agent remembered idle whose wake-up was lost gets its
 * job. Real SQLite hub; the two caches run on a clock the test moves.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { RUNTIME_STATUSES } from "../../../src/server/db/records.ts";
import type { Store } from "../../../src/server/db/store.ts";
import {
  CREDENTIAL_TRUST_MS,
  InMemoryAgentCredentials,
} from "../../../src/server/services/agent-credentials.ts";
import { IDLE_TRUST_MS, InMemoryJobNotifier } from "../../../src/server/services/job-notifier.ts";
import { refreshTrustedMemory } from "../../../src/server/services/trust-refresh.ts";
import { HeartbeatResponse, PollResponse } from "../../../src/shared/protocol/agent.ts";
import { PROTOCOL_VERSION } from "../../../src/shared/protocol/version.ts";
import { createTestHub } from "../../helpers/hub.ts";
import {
  addAgentMachine,
  createRepository,
  type TestAgent,
  userWithRole,
} from "../../helpers/hub-fixtures.ts";

type Counted = "byTokenHash" | "queuedFor" | "cancelRequestedJobIds";

/** `store` with its per-request lookups (credential, queued work, cancel requests) counted. */
function counting(store: Store, calls: Record<Counted, number>): Store {
  const count = <T extends object>(target: T, keys: Counted[]): T =>
    new Proxy(target, {
      get: (t, k, receiver) => {
        const value = Reflect.get(t, k, receiver);
        const key = keys.find((c) => c === k);
        if (key === undefined || typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls[key]++;
          return value.apply(t, args);
        };
      },
    });
  const machines = count(store.machines, ["byTokenHash", "cancelRequestedJobIds"]);
  const jobs = count(store.jobs, ["queuedFor"]);
  return new Proxy(store, {
    get: (target, key, receiver) =>
      key === "machines" ? machines : key === "jobs" ? jobs : Reflect.get(target, key, receiver),
  });
}

describe("trust refresh", () => {
  const hub = createTestHub();
  const calls = { byTokenHash: 0, queuedFor: 0, cancelRequestedJobIds: 0 };
  hub.deps.store = counting(hub.deps.store, calls);
  let now = 1_000_000;
  afterAll(() => hub.close());
  beforeEach(() => {
    hub.deps.credentials = new InMemoryAgentCredentials(() => now);
    hub.deps.notifier = new InMemoryJobNotifier(() => now);
  });

  const poll = async (agentToken: string, query = "") => {
    const response = await hub.request("GET", `/api/agents/jobs/poll?${query}`, { agentToken });
    return { status: response.status, jobs: PollResponse.safeParse(response.body).data?.jobs };
  };
  const heartbeat = async (agent: TestAgent) => {
    const response = await hub.request("POST", "/api/agents/heartbeat", {
      agentToken: agent.token,
      body: { agent_id: agent.agentId, protocol_version: PROTOCOL_VERSION, running_job_ids: [] },
    });
    expect(response.status).toBe(200);
    return HeartbeatResponse.parse(response.body).cancel_job_ids;
  };

  test("a steady agent's credential and idleness are renewed in bulk, never looked up alone", async () => {
    const agent = await addAgentMachine(hub);
    const start = { ...calls };
    expect((await poll(agent.token)).jobs).toEqual([]);
    expect(calls.byTokenHash - start.byTokenHash).toBe(1);
    expect(calls.queuedFor - start.queuedFor).toBe(1);

    // Sweeps every 15 s for well past both trusts: the agent's requests look nothing up.
    for (let elapsed = 0; elapsed < 2 * IDLE_TRUST_MS; elapsed += 15_000) {
      now += 15_000;
      await refreshTrustedMemory(hub.deps);
      expect((await poll(agent.token)).jobs).toEqual([]);
    }
    expect(calls.byTokenHash - start.byTokenHash).toBe(1);
    expect(calls.queuedFor - start.queuedFor).toBe(1);

    // Without the sweep, both run out and the next request pays for its own lookups.
    now += IDLE_TRUST_MS;
    expect((await poll(agent.token)).jobs).toEqual([]);
    expect(calls.byTokenHash - start.byTokenHash).toBe(2);
    expect(calls.queuedFor - start.queuedFor).toBe(2);
  });

  test("a machine disabled where this process could not hear of it is not renewed", async () => {
    const agent = await addAgentMachine(hub);
    expect((await poll(agent.token)).status).toBe(200);
    // A write this process's cache was not told of (a hand edit, a lost NOTIFY).
    const disabled = await hub.deps.store.machines.transition(
      agent.machineId,
      RUNTIME_STATUSES,
      "disabled",
      Date.now(),
    );
    expect(disabled?.status).toBe("disabled");
    now += CREDENTIAL_TRUST_MS / 2;
    await refreshTrustedMemory(hub.deps);
    expect((await poll(agent.token)).status).toBe(200); // still trusted, as documented
    now += CREDENTIAL_TRUST_MS / 2;
    expect((await poll(agent.token)).status).toBe(401);
  });

  test("an agent remembered idle whose wake-up was lost is woken with its job", async () => {
    const operator = await userWithRole(hub, "operator");
    const agent = await addAgentMachine(hub);
    const repo = await createRepository(hub, await hub.login(), agent.machineId);
    expect((await poll(agent.token)).jobs).toEqual([]); // now remembered idle
    const parked = poll(agent.token, "wait=30");
    const notifier = hub.deps.notifier;
    for (let i = 0; i < 500 && notifier.waiting === 0; i++) await Bun.sleep(10);
    expect(notifier.waiting).toBe(1);

    // The job is queued, but its wake-up never arrives (a NOTIFY lost on the way).
    hub.deps.notifier = Object.assign(Object.create(notifier), { notify: () => {} });
    const queued = await hub.request("POST", `/api/repositories/${repo.id}/check`, {
      token: operator,
    });
    expect(queued.status).toBe(202);
    hub.deps.notifier = notifier;
    expect(notifier.waiting).toBe(1); // still parked, and still believed idle
    expect(notifier.knownNone(agent.machineId, "queued")).toBe(true);

    now += IDLE_TRUST_MS / 2;
    await refreshTrustedMemory(hub.deps);
    const answered = await parked;
    expect(answered.jobs?.map((j) => j.id)).toEqual([(queued.body as { job_id: number }).job_id]);
  });

  test("heartbeats look cancel requests up once, then again only after a cancel request", async () => {
    const operator = await userWithRole(hub, "operator");
    const agent = await addAgentMachine(hub);
    const repo = await createRepository(hub, await hub.login(), agent.machineId);
    const start = calls.cancelRequestedJobIds;
    expect(await heartbeat(agent)).toEqual([]);
    expect(await heartbeat(agent)).toEqual([]);
    now += 15_000;
    await refreshTrustedMemory(hub.deps);
    now += IDLE_TRUST_MS;
    await refreshTrustedMemory(hub.deps);
    expect(await heartbeat(agent)).toEqual([]);
    expect(calls.cancelRequestedJobIds - start).toBe(1);

    const queued = await hub.request("POST", `/api/repositories/${repo.id}/check`, {
      token: operator,
    });
    const id = (queued.body as { job_id: number }).job_id;
    const claimed = await hub.request("POST", `/api/agents/jobs/${id}/claim`, {
      agentToken: agent.token,
    });
    expect(claimed.status).toBe(200);
    // Claimed, nothing asked of it yet: looked up, since queueing notified the agent.
    expect(await heartbeat(agent)).toEqual([]);
    const cancel = await hub.request("POST", `/api/jobs/${id}/cancel`, { token: operator });
    expect(cancel.status).toBeLessThan(300);
    expect(await heartbeat(agent)).toEqual([id]);
    expect(await heartbeat(agent)).toEqual([id]); // asked until the agent reports
    expect(calls.cancelRequestedJobIds - start).toBe(4);
  });
});
