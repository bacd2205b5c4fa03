/**
 * Installs and removes the agent's service: the systemd unit on Linux, the launchd job on
 * macOS. Behind `borgctl agent service install|uninstall`, which install.sh calls.
 *
 * Order of an install:
 *   1. The unit or plist is written under `root` (a prefix, "" for the real system) to a
 *      temp file in the same directory, then renamed over the old one, mode 0644.
 *   2. Without a service manager (`manager` undefined: --root, packaging, tests) that is
 *      all. Otherwise systemd reloads its units; with `start` the service is enabled and
 *      (re)started, so an upgraded binary takes effect. launchd: enable, boot the old job
 *      out (it may not be loaded), bootstrap the new plist.
 * Uninstall reverses it: stop and disable first, then remove the file, then reload.
 * systemctl and launchctl run only through `manager.run` (the CLI's is runProcess).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { runProcess } from "../process/spawn.ts";
import { renderAgentPlist } from "./agent-plist.ts";
import { renderAgentUnit } from "./agent-unit.ts";
import {
  AGENT_LAUNCHD_LABEL,
  AGENT_UNIT,
  LAUNCH_DAEMONS_DIR,
  SYSTEMD_UNIT_DIR,
} from "./install-paths.ts";

export type ServicePlatform = "linux" | "darwin";

export interface ServiceManager {
  /** Runs systemctl or launchctl; resolves with whether it exited 0 and its last stderr. */
  run(argv: readonly string[]): Promise<{ ok: boolean; message: string }>;
  /** Whether the service manager is actually running here (systemd: /run/systemd/system). */
  running(): boolean;
}

export interface AgentServiceOptions {
  platform: ServicePlatform;
  /** The config path the service passes to `agent run` (as seen on the target system). */
  config: string;
  /** Default /usr/local/bin/borgctl. */
  binary?: string;
  /** Prefix every written or removed file with this directory; default "" (the system). */
  root?: string;
  /** Enable and (re)start after installing. */
  start: boolean;
  /** undefined: never run systemctl/launchctl. */
  manager?: ServiceManager;
}

export interface ServiceReport {
  /** The unit or plist path, with the root prefix. */
  file: string;
  /** What happened, one line each, for the person running the installer. */
  notes: string[];
}

/** The real systemctl/launchctl, run through runProcess. */
export function systemServiceManager(platform: ServicePlatform): ServiceManager {
  return {
    async run(argv) {
      try {
        const result = await runProcess({ argv, stderrTailLines: 5 });
        return { ok: result.exitCode === 0, message: result.stderrTail.join(" ").trim() };
      } catch (error) {
        return { ok: false, message: (error as Error).message };
      }
    },
    // sd_booted(): systemd is PID 1 exactly when this directory exists (not in most containers).
    running: () => (platform === "darwin" ? true : existsSync("/run/systemd/system")),
  };
}

export class ServiceCommandError extends Error {
  override readonly name = "ServiceCommandError";
}

/** Where the agent's unit or plist lives on the target system (no root prefix). */
export function agentServiceFile(platform: ServicePlatform): string {
  return platform === "darwin"
    ? `${LAUNCH_DAEMONS_DIR}/${AGENT_LAUNCHD_LABEL}.plist`
    : `${SYSTEMD_UNIT_DIR}/${AGENT_UNIT}`;
}

export function renderAgentService(
  platform: ServicePlatform,
  options: { config: string; binary?: string },
): string {
  return platform === "darwin" ? renderAgentPlist(options) : renderAgentUnit(options);
}

const prefixed = (root: string | undefined, path: string) => (root ? join(root, path) : path);

async function writeAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, content, { mode: 0o644, flag: "wx" });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function mustRun(manager: ServiceManager, argv: readonly string[]): Promise<void> {
  const result = await manager.run(argv);
  if (!result.ok) {
    throw new ServiceCommandError(
      `${argv.join(" ")} failed${result.message ? `: ${result.message}` : ""}`,
    );
  }
}

export async function installAgentService(options: AgentServiceOptions): Promise<ServiceReport> {
  const target = agentServiceFile(options.platform);
  const file = prefixed(options.root, target);
  await writeAtomically(file, renderAgentService(options.platform, options));
  const notes = [`wrote ${file}`];
  const { manager } = options;
  const startHint =
    options.platform === "darwin"
      ? `launchctl bootstrap system ${target}`
      : `systemctl enable --now ${AGENT_UNIT}`;
  if (!manager) {
    notes.push(`service manager not touched (--root); on the target system: ${startHint}`);
    return { file, notes };
  }
  if (!manager.running()) {
    notes.push(
      `${options.platform === "darwin" ? "launchd" : "systemd"} is not running here; start it later with: ${startHint}`,
    );
    return { file, notes };
  }
  if (options.platform === "darwin") {
    if (!options.start) {
      notes.push(`not started (--no-start); start it with: ${startHint}`);
      return { file, notes };
    }
    const service = `system/${AGENT_LAUNCHD_LABEL}`;
    await mustRun(manager, ["launchctl", "enable", service]);
    await manager.run(["launchctl", "bootout", service]); // fails when it was not loaded: fine
    await mustRun(manager, ["launchctl", "bootstrap", "system", target]);
    notes.push(`started ${service}`);
    return { file, notes };
  }
  await mustRun(manager, ["systemctl", "daemon-reload"]);
  if (!options.start) {
    notes.push(`not started (--no-start); start it with: ${startHint}`);
    return { file, notes };
  }
  await mustRun(manager, ["systemctl", "enable", AGENT_UNIT]);
  await mustRun(manager, ["systemctl", "restart", AGENT_UNIT]);
  notes.push(`enabled and started ${AGENT_UNIT}`);
  return { file, notes };
}

export async function uninstallAgentService(
  options: Omit<AgentServiceOptions, "config" | "binary" | "start">,
): Promise<ServiceReport> {
  const file = prefixed(options.root, agentServiceFile(options.platform));
  const notes: string[] = [];
  const { manager } = options;
  const present = await stat(file).then(
    () => true,
    () => false,
  );
  const managed = manager?.running() === true;
  if (managed && manager) {
    // Either may fail when the service was never loaded; removing the file is what counts.
    if (options.platform === "darwin") {
      await manager.run(["launchctl", "bootout", `system/${AGENT_LAUNCHD_LABEL}`]);
    } else {
      await manager.run(["systemctl", "disable", "--now", AGENT_UNIT]);
    }
  }
  await rm(file, { force: true });
  notes.push(present ? `removed ${file}` : `${file} was not installed`);
  if (managed && manager && options.platform === "linux") {
    await mustRun(manager, ["systemctl", "daemon-reload"]);
  }
  if (!manager) notes.push("service manager not touched (--root)");
  return { file, notes };
}
