/** A new repository passphrase has at least 10 characters (issue 18, item 7). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine, type TestAgent } from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
let admin: string;
let agent: TestAgent;

beforeAll(async () => {
  admin = await hub.login();
  agent = await addAgentMachine(hub);
});
afterAll(() => hub.close());

const create = (name: string, passphrase: string) =>
  hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name,
      agent_machine_id: agent.machineId,
      location: `/srv/borg/${name}`,
      passphrase,
      source_paths: ["/home"],
    },
  });

describe("new passphrases", () => {
  test("under 10 characters is a 400 naming the field, on create and on change", async () => {
    const short = await create("short", "x");
    expect(short.status).toBe(400);
    expect(short.body).toMatchObject({ details: [{ path: "passphrase" }] });
    expect((short.body as { error: string }).error).toContain("at least 10 characters");

    const ok = await create("long-enough", "0123456789");
    expect(ok.status).toBe(201);
    const id = (ok.body as { id: number }).id;
    const change = await hub.request("PATCH", `/api/repositories/${id}`, {
      token: admin,
      body: { passphrase: "123456789" },
    });
    expect(change.status).toBe(400);
    const list = (await hub.request("GET", "/api/repositories", { token: admin })).body as {
      name: string;
    }[];
    expect(list.map((r) => r.name)).toEqual(["long-enough"]);
  });
});
