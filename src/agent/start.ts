/**
 * Composition root of `borgctl agent …`: reads the agent's config (refusing one others
 * can read), builds the hub client, outbox, secrets and runtime, and implements each
 * command's flow. Register is the only flow that writes the config file.
 */
import { readFile, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { parse as parseToml } from "smol-toml";
import type { DetectedBorg } from "../borg/run.ts";
import {
  AGENT_CONFIG_FIELDS,
  AGENT_POLICY_KEYS,
  AGENT_POLICY_TEMPLATE,
  type AgentConfig,
  type AgentPolicy,
  agentConfigSchema,
  agentPolicy,
  agentPolicySchema,
} from "../shared/config/agent.ts";
import { loadConfig } from "../shared/config/load.ts";
import type { Logger } from "../shared/log.ts";
import { runProcess } from "../shared/process/spawn.ts";
import { PROTOCOL_VERSION } from "../shared/protocol/version.ts";
import { findBorgBinaries } from "./borg-binaries.ts";
import { assertTransportAllowed, HubClient, HubRefused } from "./client.ts";
import { AGENT_CAPABILITIES, AgentRuntime, type AgentRuntimeOptions } from "./loop.ts";
import { Outbox } from "./outbox.ts";
import { AgentSecrets } from "./secrets.ts";
import {
  type AgentPaths,
  AgentStateError,
  agentPaths,
  assertPrivateFile,
  ensurePrivateDir,
  writeAgentConfig,
  writePrivateFile,
} from "./state.ts";

export interface AgentEnv {
  env: Record<string, string | undefined>;
  logger: Logger;
  version: string;
}

export interface LoadedAgent {
  config: AgentConfig;
  configPath: string;
  paths: AgentPaths;
  client: HubClient;
}

export async function loadAgent(configPath: string, e: AgentEnv): Promise<LoadedAgent> {
  await assertPrivateFile(configPath, "agent config");
  const config = await loadConfig(agentConfigSchema, AGENT_CONFIG_FIELDS, {
    role: "agent",
    file: { path: configPath, required: true },
    env: e.env,
    flags: {},
  });
  e.logger.redactor.add(config.agent_token);
  const paths = agentPaths(config.state_dir);
  await ensurePrivateDir(paths.stateDir);
  const client = new HubClient({
    serverUrl: config.server_url,
    token: config.agent_token,
    insecure: config.insecure,
  });
  return { config, configPath, paths, client };
}

/** Creates the agent's ed25519 key pair once; returns the public key line. */
async function ensureSshKey(paths: AgentPaths): Promise<string> {
  const existing = await readFile(paths.sshPublicKey, "utf8").catch(() => undefined);
  if (existing) return existing.trim();
  const result = await runProcess({
    argv: [
      "ssh-keygen",
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      `borgctl-agent@${hostname()}`,
      "-f",
      paths.sshKey,
    ],
    stderrTailLines: 5,
  });
  if (result.exitCode !== 0)
    throw new AgentStateError(`ssh-keygen failed: ${result.stderrTail.join(" ")}`);
  return (await readFile(paths.sshPublicKey, "utf8")).trim();
}

/**
 * A policy an admin wrote into agent.toml before registering is kept, so a machine can
 * be locked down before any hub can give it work. A file that cannot be read as one
 * stops the registration: enrolling without the intended limits would be the worse outcome.
 */
function preseededPolicy(path: string, text: string | undefined): AgentPolicy {
  if (text === undefined) return {};
  let parsed: Record<string, unknown>;
  try {
    parsed = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw new AgentStateError(
      `${path} is not valid TOML (${(error as Error).message.split("\n")[0]}); fix or remove it before registering`,
    );
  }
  const picked = Object.fromEntries(
    AGENT_POLICY_KEYS.filter((key) => key in parsed).map((key) => [key, parsed[key]]),
  );
  const result = agentPolicySchema.safeParse(picked);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new AgentStateError(`the agent policy in ${path} is invalid: ${issues.join("; ")}`);
  }
  return result.data;
}

const borgReport = (borgs: readonly DetectedBorg[]) =>
  borgs.map((b) => ({ major: b.version.major, version: b.version.raw, path: b.path }));

export async function registerAgent(
  request: {
    serverUrl: string;
    token: string;
    name?: string;
    configPath: string;
    stateDir: string;
    insecure: boolean;
  },
  e: AgentEnv,
): Promise<AgentConfig> {
  assertTransportAllowed(request.serverUrl, request.insecure);
  const previous = await readFile(request.configPath, "utf8").catch(() => undefined);
  if (previous?.includes("agent_id")) {
    throw new AgentStateError(
      `this machine is already registered (${request.configPath}); run "borgctl agent unregister" first`,
    );
  }
  const policy = preseededPolicy(request.configPath, previous);
  e.logger.redactor.add(request.token);
  const paths = agentPaths(request.stateDir);
  // A refused registration must leave the machine as it found it: no key pair and no
  // state directory that a retry (or an admin reading the disk) would mistake for an
  // enrollment. So remember what exists now and remove only what this attempt created.
  const createdSshKey = !(await pathExists(paths.sshPublicKey));
  let createdDir: string | undefined;
  try {
    createdDir = await ensurePrivateDir(paths.stateDir);
    const sshPublicKey = await ensureSshKey(paths);
    const borgs = await findBorgBinaries(e.env.PATH);
    const client = new HubClient({ serverUrl: request.serverUrl, insecure: request.insecure });
    const answer = await client
      .register({
        enrollment_token: request.token,
        protocol_version: PROTOCOL_VERSION,
        name: request.name,
        hostname: hostname(),
        os: process.platform,
        arch: process.arch,
        agent_version: e.version,
        borg_versions: borgReport(borgs),
        capabilities: [...AGENT_CAPABILITIES],
        ssh_public_key: sshPublicKey,
      })
      .catch((error: unknown) => {
        // The hub's own reason (a refused enrollment token, a field it could not take)
        // is what the person at the terminal can act on.
        if (error instanceof HubRefused) {
          throw new HubRefused(
            error.status,
            error.code,
            `the hub refused to register this machine: ${error.message}`,
          );
        }
        throw error;
      });
    const config: AgentConfig = agentConfigSchema.parse({
      server_url: request.serverUrl,
      agent_id: answer.agent_id,
      agent_token: answer.agent_token,
      name: request.name,
      state_dir: request.stateDir,
      insecure: request.insecure,
      heartbeat_interval_seconds: answer.heartbeat_interval_seconds,
      ...policy,
    });
    await writeAgentConfig(request.configPath, config, AGENT_POLICY_TEMPLATE);
    return config;
  } catch (error) {
    if (createdDir !== undefined) await rm(createdDir, { recursive: true, force: true });
    else if (createdSshKey) {
      await rm(paths.sshKey, { force: true });
      await rm(paths.sshPublicKey, { force: true });
    }
    throw error;
  }
}

async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function createRuntime(
  agent: LoadedAgent,
  e: AgentEnv,
  options: Pick<AgentRuntimeOptions, "onProgress"> = {},
): Promise<AgentRuntime> {
  const borgs = await findBorgBinaries(e.env.PATH);
  if (borgs.length === 0)
    e.logger.warn("no borg binary found: jobs will fail until borg is installed");
  const secrets = new AgentSecrets(agent.paths.secretsFile);
  const sshPublicKey = await readFile(agent.paths.sshPublicKey, "utf8").then(
    (t) => t.trim(),
    () => undefined,
  );
  return new AgentRuntime({
    agentId: agent.config.agent_id,
    agentVersion: e.version,
    client: agent.client,
    outbox: new Outbox(agent.paths.outboxDir),
    paths: agent.paths,
    borgs,
    logger: e.logger,
    pollWaitSeconds: agent.config.poll_wait_seconds,
    heartbeatIntervalSeconds: agent.config.heartbeat_interval_seconds,
    sshPublicKey,
    executor: {
      localPassphrase: async (repository) =>
        (await secrets.get(repository.name)) ?? (await secrets.get(String(repository.id))),
      protect: (secret) => {
        e.logger.redactor.add(secret);
        return () => e.logger.redactor.remove(secret);
      },
      policy: agentPolicy(agent.config),
    },
    ...options,
    currentJob: {
      read: async () => {
        const text = await readFile(agent.paths.currentJobFile, "utf8").catch(() => undefined);
        const id = text ? Number(JSON.parse(text).job_id) : Number.NaN;
        return Number.isInteger(id) ? id : undefined;
      },
      write: async (id) => {
        if (id === undefined) await rm(agent.paths.currentJobFile, { force: true });
        else await writePrivateFile(agent.paths.currentJobFile, JSON.stringify({ job_id: id }));
      },
    },
  });
}

/** Tells the hub (best effort), then removes the local credential. Keys and cache stay. */
/**
 * Leaves the hub and removes the local credential. The state dir (SSH key, known_hosts,
 * borg's cache and security dir, the outbox, and any passphrases kept with `agent secret
 * set`) stays unless `purge`: an agent-held passphrase may be the only copy, and without
 * it those repositories cannot be read.
 */
export async function unregisterAgent(
  agent: LoadedAgent,
  options: { purge?: boolean } = {},
): Promise<{ hubInformed: boolean; reason?: string; stateDir: string; purged: boolean }> {
  let informed: { hubInformed: boolean; reason?: string } = { hubInformed: true };
  try {
    await agent.client.unregister();
  } catch (error) {
    informed = { hubInformed: false, reason: (error as Error).message };
  }
  await rm(agent.configPath, { force: true });
  const stateDir = agent.paths.stateDir;
  if (options.purge) await rm(stateDir, { recursive: true, force: true });
  return { ...informed, stateDir, purged: options.purge === true };
}

export async function hubReachable(
  serverUrl: string,
): Promise<{ ok: boolean; version?: string; error?: string }> {
  try {
    const response = await fetch(new URL("/api/health", serverUrl), {
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await response.json()) as { version?: string };
    return { ok: response.ok, version: body.version };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
