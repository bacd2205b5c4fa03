/**
 * Shortcuts for hub tests about repositories and jobs: an agent machine inserted straight
 * into the store (with a real agent credential, so the runtime routes accept it, without
 * going through enrollment), users of each role, and a repository created through the API.
 */
import type { MachineStatus } from "../../src/server/db/records.ts";
import { newPublicId, newToken } from "../../src/server/services/tokens.ts";
import { Repository } from "../../src/shared/protocol/api.ts";
import { PROTOCOL_VERSION } from "../../src/shared/protocol/version.ts";
import type { TestHub } from "./hub.ts";

export interface TestAgent {
  machineId: number;
  agentId: string;
  /** The agent credential, for `hub.request(…, { agentToken })`. */
  token: string;
}

let machineCounter = 0;

export async function addAgentMachine(
  hub: TestHub,
  options: { name?: string; status?: MachineStatus; capabilities?: string[] } = {},
): Promise<TestAgent> {
  const { token, hash, prefix } = newToken("agent");
  const agentId = newPublicId("agt");
  machineCounter += 1;
  const machine = await hub.deps.store.machines.insert({
    name: options.name ?? `machine-${machineCounter}`,
    agentId,
    tokenHash: hash,
    tokenPrefix: prefix,
    hostname: `host-${machineCounter}.test`,
    os: "linux",
    arch: "x64",
    agentVersion: "0.0.0-test",
    protocolVersion: PROTOCOL_VERSION,
    borgVersions: [{ major: 1, version: "1.2.4", path: "/usr/bin/borg" }],
    capabilities: options.capabilities ?? ["backup.create", "archive.browse", "archive.extract"],
    sshPublicKey: null,
    status: options.status ?? "online",
  });
  return { machineId: machine.id, agentId, token };
}

/** Creates a user with `role` (as admin) and returns a session token for them. */
export async function userWithRole(
  hub: TestHub,
  role: "admin" | "operator" | "viewer",
  username = `${role}-${Math.random().toString(36).slice(2, 8)}`,
): Promise<string> {
  const admin = await hub.login();
  const password = "a-long-test-password";
  const created = await hub.request("POST", "/api/users", {
    token: admin,
    body: { username, password, role },
  });
  if (created.status !== 201) throw new Error(`user creation failed: ${created.text}`);
  return hub.login(username, password);
}

let repoCounter = 0;

/** A repository through POST /api/repositories (passphrase kept by the hub unless overridden). */
export async function createRepository(
  hub: TestHub,
  token: string,
  agentMachineId: number,
  overrides: Record<string, unknown> = {},
): Promise<Repository> {
  repoCounter += 1;
  const response = await hub.request("POST", "/api/repositories", {
    token,
    body: {
      name: `repo-${repoCounter}`,
      agent_machine_id: agentMachineId,
      location: `/srv/borg/repo-${repoCounter}`,
      passphrase: `passphrase-${repoCounter}-secret`,
      source_paths: ["/home", "/etc"],
      exclude_patterns: ["*.tmp"],
      ...overrides,
    },
  });
  if (response.status !== 201) throw new Error(`repository creation failed: ${response.text}`);
  return Repository.parse(response.body);
}
