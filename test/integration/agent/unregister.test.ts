/**
 * `borgctl agent unregister` against a real hub: the hub revokes the machine, the config
 * goes, and the state dir (SSH key, agent-held passphrases) is kept and named unless
 * --purge, because an agent-held passphrase may be its only copy.
 */
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { runCommand } from "citty";
import unregisterCommand from "../../../src/cli/commands/agent/unregister.ts";
import type { Machine } from "../../../src/shared/protocol/api.ts";
import { enrollAgent, type TestAgentProcess } from "../../helpers/agent.ts";
import { createTestHub } from "../../helpers/hub.ts";

const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;
const agents: TestAgentProcess[] = [];

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
});
afterAll(async () => {
  server.stop();
  hub.close();
  for (const agent of agents) await rm(agent.dir, { recursive: true, force: true });
});

async function unregister(agent: TestAgentProcess, ...flags: string[]) {
  const printed: string[] = [];
  const log = spyOn(console, "log").mockImplementation((line: string) => {
    printed.push(line);
  });
  try {
    await runCommand(unregisterCommand, { rawArgs: ["--config", agent.configPath, ...flags] });
  } finally {
    log.mockRestore();
  }
  return printed.join("\n");
}

const machineStatuses = async () =>
  ((await hub.request("GET", "/api/managed-machines", { token: admin })).body as Machine[]).map(
    (m) => m.status,
  );

describe("agent unregister", () => {
  test("revokes the machine, removes the config, keeps and names the state dir", async () => {
    const agent = await enrollAgent(hub, server.url, admin);
    agents.push(agent);
    const stateDir = agent.agent.paths.stateDir;
    const text = await unregister(agent);
    expect(await machineStatuses()).toContain("revoked");
    expect(existsSync(agent.configPath)).toBe(false);
    expect(existsSync(agent.agent.paths.sshKey)).toBe(true);
    expect(text).toContain(`The state dir ${stateDir} is kept`);
    expect(text).toContain("--purge");
  });

  test("--purge also removes the state dir", async () => {
    const agent = await enrollAgent(hub, server.url, admin);
    agents.push(agent);
    const text = await unregister(agent, "--purge", "--json");
    expect(JSON.parse(text)).toEqual({
      unregistered: true,
      hub_informed: true,
      state_dir: agent.agent.paths.stateDir,
      state_removed: true,
    });
    expect(existsSync(agent.agent.paths.stateDir)).toBe(false);
  });
});
