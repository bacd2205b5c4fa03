/** Two records for one borg repository on one machine are refused, naming the other. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine, type TestAgent } from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
let admin: string;
let laptop: TestAgent;
let server: TestAgent;

beforeAll(async () => {
  admin = await hub.login();
  laptop = await addAgentMachine(hub);
  server = await addAgentMachine(hub);
});
afterAll(() => hub.close());

const create = (name: string, machine: TestAgent, location: string) =>
  hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name,
      agent_machine_id: machine.machineId,
      location,
      encryption: "none",
      source_paths: ["/home"],
    },
  });

describe("one location, one repository record per machine", () => {
  test("the same location (also spelled with a trailing slash) on the same machine is 409", async () => {
    const first = await create("first", laptop, "ssh://borg@box.example.com:22/repos/laptop");
    expect(first.status).toBe(201);
    const id = (first.body as { id: number }).id;
    for (const again of [
      "ssh://borg@box.example.com:22/repos/laptop",
      "ssh://borg@box.example.com:22/repos/laptop/",
    ]) {
      const response = await create(`again-${Math.random()}`, laptop, again);
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({
        code: "conflict",
        details: { repository_id: id },
      });
      expect((response.body as { error: string }).error).toContain('repository "first"');
    }
  });

  test("another machine, or another path, is fine", async () => {
    expect(
      (await create("other-machine", server, "ssh://borg@box.example.com:22/repos/laptop")).status,
    ).toBe(201);
    expect(
      (await create("other-path", laptop, "ssh://borg@box.example.com:22/repos/laptop2")).status,
    ).toBe(201);
  });
});
