/**
 * The review's critical finding, end to end: a repository location that smuggles an ssh
 * option (`ssh://-oProxyCommand=…/repo`) must never run a command on the agent. The hub
 * refuses it with a 400 naming the field; and an agent handed one anyway (a compromised
 * hub, simulated by writing the row straight into the hub's database) refuses it before
 * borg — and so ssh — runs. The real borg and the real ssh client are on PATH, so before
 * the fix the marker file below was created by ProxyCommand.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Machine } from "../../../src/shared/protocol/api.ts";
import { enrollAgent, type TestAgentProcess, waitForJob } from "../../helpers/agent.ts";
import { createTestHub } from "../../helpers/hub.ts";

const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;
let agent: TestAgentProcess;
let running: ReturnType<TestAgentProcess["start"]>;
let machineId: number;

/** ProxyCommand runs in a shell: `$(printf '\057')` is a "/" that no "/" check sees. */
const marker = () => join(agent.dir, "pwned");
const slashFree = (path: string) => path.split("/").join("$(printf '\\057')");
const attack = () => `ssh://-oProxyCommand=touch ${slashFree(marker())}/repo`;

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  agent = await enrollAgent(hub, server.url, admin);
  const machines = (await hub.request("GET", "/api/managed-machines", { token: admin }))
    .body as Machine[];
  machineId = machines[0]?.id as number;
  running = agent.start();
});
afterAll(async () => {
  await running?.stop();
  server.stop();
  hub.close();
  await rm(agent.dir, { recursive: true, force: true });
});

const create = (location: string) =>
  hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name: `r-${Math.random().toString(36).slice(2)}`,
      agent_machine_id: machineId,
      location,
      encryption: "none",
      source_paths: ["/tmp"],
    },
  });

describe("argv injection through a repository location", () => {
  test("the hub refuses option-smuggling locations with a 400 naming the field", async () => {
    for (const location of [
      attack(),
      "ssh://borg@-oProxyCommand=id/repo",
      "ssh://-oProxyCommand=id@box/repo",
      "-oProxyCommand=id:repo",
      "ssh://borg@box;id/repo",
      "ssh://borg@box:22;id/repo",
    ]) {
      const response = await create(location);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        code: "validation_failed",
        details: [{ path: "location" }],
      });
      expect((response.body as { error: string }).error).toStartWith("location ");
    }
    const list = await hub.request("GET", "/api/repositories", { token: admin });
    expect(list.body).toEqual([]);
  });

  test("an agent handed such a location by a compromised hub refuses it before borg runs", async () => {
    const created = await create("/srv/placeholder");
    expect(created.status).toBe(201);
    const id = (created.body as { id: number }).id;
    // The compromised hub: its own check bypassed, the location rewritten in its database.
    await hub.sql("UPDATE repositories SET location = ? WHERE id = ?", [attack(), id]);

    const queued = await hub.request("POST", `/api/repositories/${id}/init`, { token: admin });
    expect(queued.status).toBe(202);
    const job = (await waitForJob(hub, admin, (queued.body as { job_id: number }).job_id)) as {
      status: string;
      error_message: string | null;
    };
    expect(job.status).toBe("failed");
    expect(job.error_message).toContain("repository location has an invalid host");
    expect(existsSync(marker())).toBe(false);
  });
});
