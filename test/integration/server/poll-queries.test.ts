/**
 * What a poll costs the database: the queued-work lookup runs only when the hub does not
 * know the agent to be idle (services/job-notifier.ts), so an idle agent's polls, and its
 * long polls running out, run none; a job queued for it is still answered at once.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { Store } from "../../../src/server/db/store.ts";
import { PollResponse } from "../../../src/shared/protocol/agent.ts";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine, createRepository, userWithRole } from "../../helpers/hub-fixtures.ts";

/** `store` with its queuedFor calls counted. */
function countingQueuedFor(store: Store, counter: { calls: number }): Store {
  const jobs = new Proxy(store.jobs, {
    get: (target, key, receiver) =>
      key === "queuedFor"
        ? (...args: Parameters<Store["jobs"]["queuedFor"]>) => {
            counter.calls++;
            return target.queuedFor(...args);
          }
        : Reflect.get(target, key, receiver),
  });
  return new Proxy(store, {
    get: (target, key, receiver) => (key === "jobs" ? jobs : Reflect.get(target, key, receiver)),
  });
}

describe("poll queries", () => {
  const hub = createTestHub();
  const counter = { calls: 0 };
  hub.deps.store = countingQueuedFor(hub.deps.store, counter);
  afterAll(() => hub.close());

  const poll = async (agentToken: string, query = "") => {
    const response = await hub.request("GET", `/api/agents/jobs/poll?${query}`, { agentToken });
    expect(response.status).toBe(200);
    return PollResponse.parse(response.body).jobs.map((j) => j.id);
  };

  test("an idle agent's polls look once, then not until something is queued for it", async () => {
    const operator = await userWithRole(hub, "operator");
    const agent = await addAgentMachine(hub);
    const repo = await createRepository(hub, await hub.login(), agent.machineId);
    const start = counter.calls;

    expect(await poll(agent.token)).toEqual([]);
    expect(counter.calls - start).toBe(1); // first poll: nothing known, one lookup
    expect(await poll(agent.token)).toEqual([]);
    expect(await poll(agent.token, "wait=1")).toEqual([]); // waits out its second
    expect(counter.calls - start).toBe(1);

    const queued = await hub.request("POST", `/api/repositories/${repo.id}/check`, {
      token: operator,
    });
    expect(queued.status).toBe(202);
    const id = (queued.body as { job_id: number }).job_id;
    expect(await poll(agent.token)).toEqual([id]);
    expect(counter.calls - start).toBe(2);
    // Still queued (not claimed): every poll looks, and answers it.
    expect(await poll(agent.token)).toEqual([id]);
    expect(counter.calls - start).toBe(3);
  });

  test("a parked long poll is answered by the job queued meanwhile, with one lookup", async () => {
    const operator = await userWithRole(hub, "operator");
    const agent = await addAgentMachine(hub);
    const repo = await createRepository(hub, await hub.login(), agent.machineId);
    expect(await poll(agent.token)).toEqual([]); // now known idle
    const start = counter.calls;
    const parked = poll(agent.token, "wait=30");
    for (let i = 0; i < 500 && hub.deps.notifier.waiting === 0; i++) await Bun.sleep(10);
    expect(hub.deps.notifier.waiting).toBe(1);
    expect(counter.calls - start).toBe(0);
    const queued = await hub.request("POST", `/api/repositories/${repo.id}/check`, {
      token: operator,
    });
    const id = (queued.body as { job_id: number }).job_id;
    expect(await parked).toEqual([id]);
    expect(counter.calls - start).toBe(1);
  });
});
