import { describe, expect, test } from "bun:test";
import {
  CREDENTIAL_TRUST_MS,
  InMemoryAgentCredentials,
} from "../../../../src/server/services/agent-credentials.ts";

const agent = (machineId: number) => ({
  machineId,
  agentId: `agt_${machineId}`,
  name: `m${machineId}`,
  dialect: "spec" as const,
});

describe("InMemoryAgentCredentials", () => {
  test("remembers a verified credential until its machine is invalidated", () => {
    const credentials = new InMemoryAgentCredentials();
    credentials.remember("h1", agent(1), credentials.ticket());
    credentials.remember("h2", agent(2), credentials.ticket());
    expect(credentials.get("h1")).toMatchObject(agent(1));
    credentials.invalidate(1);
    expect(credentials.get("h1")).toBeUndefined();
    expect(credentials.get("h2")).toMatchObject(agent(2));
  });

  test("a lookup that raced an invalidation is not remembered", () => {
    const credentials = new InMemoryAgentCredentials();
    const ticket = credentials.ticket();
    credentials.invalidate(1); // a revoke landing while the lookup read the old status
    credentials.remember("h1", agent(1), ticket);
    expect(credentials.get("h1")).toBeUndefined();
    const all = credentials.ticket();
    credentials.invalidateAll();
    credentials.remember("h1", agent(1), all);
    expect(credentials.size).toBe(0);
  });

  test("trusted for CREDENTIAL_TRUST_MS, and bounded: the oldest go first", () => {
    let now = 0;
    const credentials = new InMemoryAgentCredentials(() => now, 2);
    credentials.remember("h1", agent(1), credentials.ticket());
    now += CREDENTIAL_TRUST_MS - 1;
    expect(credentials.get("h1")).toMatchObject(agent(1));
    now += 1;
    expect(credentials.get("h1")).toBeUndefined();
    for (const id of [1, 2, 3]) credentials.remember(`h${id}`, agent(id), credentials.ticket());
    expect(credentials.size).toBe(2);
    expect(credentials.get("h1")).toBeUndefined();
    expect(credentials.get("h3")).toMatchObject(agent(3));
    credentials.invalidate(3);
    expect(credentials.size).toBe(1);
  });

  test("verifiedLongerThan lists the entries due for re-verification; remember renews one", () => {
    let now = 0;
    const credentials = new InMemoryAgentCredentials(() => now);
    credentials.remember("h1", agent(1), credentials.ticket());
    now += 10_000;
    credentials.remember("h2", agent(2), credentials.ticket());
    expect(credentials.verifiedLongerThan(10_000)).toEqual([{ tokenHash: "h1", machineId: 1 }]);
    credentials.remember("h1", agent(1), credentials.ticket());
    expect(credentials.verifiedLongerThan(10_000)).toEqual([]);
    now += CREDENTIAL_TRUST_MS - 1;
    expect(credentials.get("h1")).toMatchObject(agent(1));
  });
});
