/**
 * Where the agent keeps its identity and working files, and the permission rules for
 * them. The config file (agent.toml: hub URL, agent id, agent token) sits at the spec's
 * platform path; the state dir holds the SSH key pair, known_hosts, borg's base dir
 * (cache, security dir) and the outbox. Directories are 0700 and files 0600; a config
 * file readable by others is refused at start, with the command that fixes it.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { stringify } from "smol-toml";
import type { AgentConfig } from "../shared/config/agent.ts";

export class AgentStateError extends Error {
  override readonly name = "AgentStateError";
}

export interface Platform {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  uid: number | undefined;
  home: string;
}

/** /etc/borgctl/agent.toml as root; ~/.config/borgctl/agent.toml or the macOS equivalent for a user. */
export function defaultConfigPath(p: Platform): string {
  if (p.env.BORGCTL_AGENT_CONFIG) return p.env.BORGCTL_AGENT_CONFIG;
  if (p.platform === "darwin") {
    return p.uid === 0
      ? "/Library/Application Support/borgctl/agent.toml"
      : join(p.home, "Library", "Application Support", "borgctl", "agent.toml");
  }
  if (p.uid === 0) return "/etc/borgctl/agent.toml";
  const xdg = p.env.XDG_CONFIG_HOME;
  return join(xdg?.startsWith("/") ? xdg : join(p.home, ".config"), "borgctl", "agent.toml");
}

/** Keys and cache: /var/lib/borgctl/agent as root, else beside the user's data. */
export function defaultStateDir(p: Platform): string {
  if (p.platform === "darwin") {
    return p.uid === 0
      ? "/Library/Application Support/borgctl/agent"
      : join(p.home, "Library", "Application Support", "borgctl", "agent");
  }
  if (p.uid === 0) return "/var/lib/borgctl/agent";
  const xdg = p.env.XDG_DATA_HOME;
  return join(xdg?.startsWith("/") ? xdg : join(p.home, ".local", "share"), "borgctl", "agent");
}

export interface AgentPaths {
  stateDir: string;
  sshKey: string;
  sshPublicKey: string;
  knownHosts: string;
  borgBaseDir: string;
  outboxDir: string;
  secretsFile: string;
  /** The job this agent was running, so a restart can report it as interrupted. */
  currentJobFile: string;
}

export function agentPaths(stateDir: string): AgentPaths {
  return {
    stateDir,
    sshKey: join(stateDir, "id_ed25519"),
    sshPublicKey: join(stateDir, "id_ed25519.pub"),
    knownHosts: join(stateDir, "known_hosts"),
    borgBaseDir: join(stateDir, "borg"),
    outboxDir: join(stateDir, "outbox"),
    secretsFile: join(stateDir, "secrets.toml"),
    currentJobFile: join(stateDir, "current-job.json"),
  };
}

/** Refuses a file that others can read (or write), or that does not exist. */
export async function assertPrivateFile(path: string, what: string): Promise<void> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch {
    throw new AgentStateError(`${what} ${path} does not exist: run "borgctl agent register" first`);
  }
  if (mode & 0o077) {
    throw new AgentStateError(
      `${what} ${path} is readable by other users (mode ${mode.toString(8).padStart(3, "0")}); it holds a credential. Fix it with: chmod 600 ${path}`,
    );
  }
}

/** Returns the first directory it had to create (undefined: `path` existed), for undoing. */
export async function ensurePrivateDir(path: string): Promise<string | undefined> {
  const created = await mkdir(path, { recursive: true, mode: 0o700 });
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o022) {
    throw new AgentStateError(
      `directory ${path} is writable by other users (mode ${mode.toString(8)}); run: chmod 700 ${path}`,
    );
  }
  return created;
}

/** Writes a file atomically with mode 0600 (temp file in the same dir, fsync, rename). */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  await ensurePrivateDir(dirname(path));
  const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** `trailer` is text appended as is (register's commented policy block). */
export async function writeAgentConfig(
  path: string,
  config: AgentConfig,
  trailer = "",
): Promise<void> {
  const header =
    "# Written by `borgctl agent register`. Holds this machine's credential: keep it 0600.\n";
  await writePrivateFile(path, header + stringify(config) + trailer);
}

export async function readPrivateText(path: string, what: string): Promise<string> {
  await assertPrivateFile(path, what);
  return readFile(path, "utf8");
}
