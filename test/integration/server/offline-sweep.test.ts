/**
 * The offline sweep after fleet churn: more stale machines than one batch holds are all
 * marked offline, each with its own audit event, in batches (services/machines.ts).
 */
import { expect, test } from "bun:test";
import type { Store } from "../../../src/server/db/store.ts";
import { OFFLINE_SWEEP_BATCH, sweepOfflineAgents } from "../../../src/server/services/machines.ts";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine } from "../../helpers/hub-fixtures.ts";

test("more stale machines than a batch: all go offline, audited once each, one INSERT per batch", async () => {
  const hub = createTestHub();
  try {
    await hub.login(); // the hub's first start (admin bootstrap) has finished
    const count = OFFLINE_SWEEP_BATCH + 7;
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const machine = await addAgentMachine(hub, { status: "online" });
      await hub.deps.store.machines.recordHeartbeat(machine.machineId, {}, hub.now());
      ids.push(machine.machineId);
    }
    const fresh = await addAgentMachine(hub, { status: "online" });
    hub.tick(2 * 60_000 + 1_000);
    await hub.deps.store.machines.recordHeartbeat(fresh.machineId, {}, hub.now());

    // Count the audit INSERTs the sweep makes.
    const store = hub.deps.store;
    let inserts = 0;
    const counted = (tx: Store): Store =>
      new Proxy(tx, {
        get: (target, key, receiver) =>
          key === "audit"
            ? new Proxy(target.audit, {
                get: (audit, name, r) => {
                  if (name === "appendMany" || name === "append") inserts++;
                  return Reflect.get(audit, name, r);
                },
              })
            : Reflect.get(target, key, receiver),
      });
    hub.deps.store = new Proxy(store, {
      get: (target, key, receiver) =>
        key === "transaction"
          ? <T>(work: (tx: Store) => Promise<T>) => target.transaction((tx) => work(counted(tx)))
          : Reflect.get(target, key, receiver),
    });
    const swept = await sweepOfflineAgents(hub.deps);
    hub.deps.store = store;

    expect(swept.map((m) => m.id).sort((a, b) => a - b)).toEqual(ids);
    expect(inserts).toBe(2);
    for (const id of [ids[0], ids.at(-1)]) {
      expect((await store.machines.byId(id as number))?.status).toBe("offline");
    }
    expect((await store.machines.byId(fresh.machineId))?.status).toBe("online");
    const events = await store.audit.list({ limit: 1000, action: "agent.status" });
    const targets = events.map((e) => e.target);
    expect(new Set(targets).size).toBe(count);
    expect(targets).toContain(`machine:${ids[0]}`);
    expect(events[0]).toMatchObject({
      actor: "system",
      details: { from: "online", to: "offline" },
    });
    expect(await sweepOfflineAgents(hub.deps)).toEqual([]);
  } finally {
    hub.close();
  }
});
