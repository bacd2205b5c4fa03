/**
 * A repository's pinned host key is parsed at the hub: a .pub line or ssh-keyscan output
 * is stored as TYPE BASE64 only, the claimed job carries that form, and anything that is
 * not a key (markers, broken base64) is a 400 naming ssh_host_key with nothing stored.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ClaimResponse } from "../../../src/shared/protocol/agent.ts";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine, type TestAgent } from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
let admin: string;
let agent: TestAgent;
const [type, base64] = readFileSync(
  join(import.meta.dir, "../../fixtures/ssh-keys/ed25519.pub"),
  "utf8",
).split(" ") as [string, string];

beforeAll(async () => {
  admin = await hub.login();
  agent = await addAgentMachine(hub);
});
afterAll(() => hub.close());

const create = (name: string, ssh_host_key: string) =>
  hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name,
      agent_machine_id: agent.machineId,
      location: `ssh://borg@box.example.com:2222/var/lib/borg/repos/${name}`,
      encryption: "none",
      source_paths: ["/home"],
      ssh_host_key,
    },
  });

describe("pinned host keys", () => {
  test("ssh-keyscan output is stored as the key alone and reaches the agent that way", async () => {
    const created = await create("keyscan", `# box\n[box.example.com]:2222 ${type} ${base64}\n`);
    expect(created.status).toBe(201);
    const id = (created.body as { id: number }).id;
    const queued = await hub.request("POST", `/api/repositories/${id}/init`, { token: admin });
    const jobId = (queued.body as { job_id: number }).job_id;
    const claim = await hub.request("POST", `/api/agents/jobs/${jobId}/claim`, {
      agentToken: agent.token,
      body: {},
    });
    expect(claim.status).toBe(200);
    expect(ClaimResponse.parse(claim.body).job.repository.ssh_host_key).toBe(`${type} ${base64}`);
  });

  test("markers, extra garbage and broken keys are a 400 naming the field; nothing stored", async () => {
    for (const bad of [
      `@cert-authority * ${type} ${base64}`,
      `${type} ${base64.slice(0, 20)}`,
      "not a key at all",
      `${type} ${base64}\n* ssh-rsa AAAA`,
    ]) {
      const response = await create(`bad-${Math.random().toString(36).slice(2)}`, bad);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ details: [{ path: "ssh_host_key" }] });
    }
    const list = (await hub.request("GET", "/api/repositories", { token: admin }))
      .body as unknown[];
    expect(list).toHaveLength(1);
  });
});
