/**
 * A small fleet of compiled-binary processes on 127.0.0.1 for fault tests: one hub on a
 * fixed port and data dir (so it can be killed and started again where agents expect it)
 * and agents enrolled through its API, each `borgctl agent run` as its own process.
 *
 * With `databaseUrl` the hub keeps its state in PostgreSQL, and `replicas: N` starts N hub
 * processes on that database at the same moment (each its own port and data dir, one
 * shared secret key), as several replicas behind a load balancer would run.
 *
 * Everything started here is tracked and ended by `cleanup()`, failure or not: the
 * processes themselves, any borg they left behind (an agent killed with SIGKILL orphans
 * its borg, which leads its own process group), tmpfs mounts, and the temp dir.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { z } from "zod";
import {
  type ProcessResult,
  runProcess,
  type SpawnedProcess,
  spawnProcess,
} from "../../src/shared/process/spawn.ts";
import { type Job, JobLogsResponse, type Machine } from "../../src/shared/protocol/api.ts";
import { hostBinary } from "./binary.ts";
import { freePort } from "./sshd.ts";

export type JobLogLine = z.infer<typeof JobLogsResponse>["logs"][number];

export const ADMIN_PASSWORD = "fleet-admin-password-789";
export const TERMINAL = ["completed", "completed_with_warnings", "failed", "canceled"];

const baseEnv = (home: string) => ({
  HOME: home,
  NO_COLOR: "1",
  PATH: process.env.PATH ?? "/usr/bin:/bin",
});

/** A live pid that is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** The start time of a process (clock ticks since boot), to tell a reused pid apart. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Every descendant of `pid` (children, their children, …) with its command line. */
export function descendants(pid: number): { pid: number; cmdline: string }[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const found: { pid: number; cmdline: string }[] = [];
  const stack = [...(parents.get(pid) ?? [])];
  while (stack.length > 0) {
    const child = stack.pop() as number;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${child}/cmdline`, "utf8").replaceAll("\0", " ").trim();
    } catch {
      continue;
    }
    found.push({ pid: child, cmdline });
    stack.push(...(parents.get(child) ?? []));
  }
  return found;
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}

export interface FleetHub {
  proc: SpawnedProcess;
  lines: string[];
}

/** One more hub process on the fleet's PostgreSQL database (createFleet's `replicas`). */
export interface FleetReplica {
  /** "B", "C", … (the first hub, `fleet.url`, is A). */
  name: string;
  port: number;
  url: string;
  dataDir: string;
  hub?: FleetHub;
  start(): Promise<FleetHub>;
  /** Sends `signal` to this replica and waits for it to end. */
  stop(signal: NodeJS.Signals): Promise<ProcessResult>;
}

export interface FleetOptions {
  /** Keep the hub's state in PostgreSQL at this URL (else SQLite in its data dir). */
  databaseUrl?: string;
  /** Hub processes to start at once on `databaseUrl` (default 1). */
  replicas?: number;
}

/** One secret key for every replica of a fleet: they must share it (README). */
const FLEET_SECRET_KEY = Buffer.alloc(32, 5).toString("base64");

export interface FleetAgent {
  name: string;
  configPath: string;
  stateDir: string;
  machineId: number;
  /** The current `agent run` process, if started. */
  proc?: SpawnedProcess;
  /** Output of every run of this agent, in order. */
  lines: string[];
  /** Starts `agent run`; `env` adds variables (e.g. BORGCTL_SERVER_URL: another hub). */
  start(env?: Record<string, string>): SpawnedProcess;
  /** Sends `signal` to the agent process (not its group) and waits for it to end. */
  kill(signal: NodeJS.Signals): Promise<ProcessResult>;
  /** borg processes under the running agent. */
  borgChildren(): { pid: number; cmdline: string }[];
}

export interface Fleet {
  dir: string;
  binary: string;
  port: number;
  url: string;
  hubDataDir: string;
  hub?: FleetHub;
  /** Every line every hub printed, across restarts. */
  hubLines: string[];
  admin: string;
  /** The hubs after the first (createFleet's `replicas`); empty with one hub. */
  replicas: FleetReplica[];
  startHub(): Promise<FleetHub>;
  /** Sends `signal` to the hub and waits for it to end. */
  stopHub(signal: NodeJS.Signals): Promise<ProcessResult>;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** `api` against another hub (a replica's URL). */
  apiAt(
    base: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }>;
  addAgent(name: string): Promise<FleetAgent>;
  createRepository(agent: FleetAgent, body: Record<string, unknown>): Promise<number>;
  /** Queues `action` on a repository; returns the job id. */
  queue(repositoryId: number, action: string, body?: unknown): Promise<number>;
  /** Polls the job (riding out hub outages) until `until` holds or it is terminal. */
  /** `base`: ask that hub instead of the first. */
  waitForJob(
    jobId: number,
    timeoutMs: number,
    until?: (job: Job) => boolean,
    base?: string,
  ): Promise<Job>;
  /** Every stored log line of a job, in sequence order (`base`: from that hub). */
  jobLogs(jobId: number, base?: string): Promise<JobLogLine[]>;
  /** Runs the real borg directly (not through borgctl), with the repository's passphrase. */
  borg(args: string[], passphrase: string): Promise<ProcessResult & { stdout: string }>;
  /** Registers a pid (e.g. an orphaned borg) to be SIGKILLed by cleanup if still alive. */
  adopt(pid: number): void;
  /** Registers a mount point for cleanup to unmount. */
  addMount(path: string): void;
  /** What the processes printed, for failure messages. */
  diagnostics(): string;
  cleanup(): Promise<void>;
}

export async function createFleet(prefix: string, options: FleetOptions = {}): Promise<Fleet> {
  const binary = await hostBinary();
  const dir = await mkdtemp(join(tmpdir(), `borgctl-${prefix}-`));
  const port = await freePort();
  const processes: SpawnedProcess[] = [];
  /** Processes whose `done` settled: their pids may belong to someone else by now. */
  const exited = new WeakSet<SpawnedProcess>();
  const track = (proc: SpawnedProcess) => {
    processes.push(proc);
    void proc.done.finally(() => exited.add(proc)).catch(() => undefined);
    return proc;
  };
  const signal = (proc: SpawnedProcess, name: NodeJS.Signals) => {
    if (!exited.has(proc)) process.kill(proc.pid, name);
  };
  /** Orphan candidates: pid → start time when seen. */
  const adopted = new Map<number, string>();
  const adopt = (pid: number) => {
    const started = startTime(pid);
    if (started !== undefined) adopted.set(pid, started);
  };
  let cleaned = false;
  const mounts: string[] = [];
  const agents: FleetAgent[] = [];
  const databaseEnv: Record<string, string> = options.databaseUrl
    ? { BORGCTL_DATABASE_URL: options.databaseUrl, BORGCTL_SECRET_KEY: FLEET_SECRET_KEY }
    : {};

  /** Starts one hub process on `port` and `dataDir`; resolves once it listens. */
  const launchHub = async (port: number, dataDir: string, label: string): Promise<FleetHub> => {
    // The port was just released by a killed hub: retry a busy bind for a little while.
    for (let attempt = 0; ; attempt++) {
      const lines: string[] = [];
      const listening = Promise.withResolvers<void>();
      const record = (line: string) => {
        lines.push(line);
        fleet.hubLines.push(label ? `[${label}] ${line}` : line);
        if (/listening on http/.test(line)) listening.resolve();
      };
      const proc = spawnProcess({
        argv: [binary, "server", "--addr", `127.0.0.1:${port}`, "--data-dir", dataDir],
        cwd: dir,
        env: { ...baseEnv(dir), BORGCTL_ADMIN_PASSWORD: ADMIN_PASSWORD, ...databaseEnv },
        onStdoutLine: record,
        onStderrLine: record,
      });
      track(proc);
      const started = await Promise.race([
        listening.promise.then(() => true),
        proc.done.then(() => false),
      ]);
      if (started) return { proc, lines };
      const busy = lines.some((l) => /EADDRINUSE|in use/i.test(l));
      if (!busy || attempt >= 20) throw new Error(`hub did not start:\n${lines.join("\n")}`);
      await Bun.sleep(250);
    }
  };

  const newReplica = async (index: number): Promise<FleetReplica> => {
    const name = String.fromCharCode(65 + index);
    const replicaPort = await freePort();
    const replica: FleetReplica = {
      name,
      port: replicaPort,
      url: `http://127.0.0.1:${replicaPort}`,
      dataDir: join(dir, `hub-${name}`),
      async start() {
        replica.hub = await launchHub(replicaPort, replica.dataDir, name);
        return replica.hub;
      },
      async stop(how) {
        const hub = replica.hub;
        if (!hub) throw new Error(`replica ${name} is not running`);
        signal(hub.proc, how);
        const result = await hub.proc.done;
        replica.hub = undefined;
        return result;
      },
    };
    return replica;
  };

  const fleet: Fleet = {
    dir,
    binary,
    port,
    url: `http://127.0.0.1:${port}`,
    hubDataDir: join(dir, "hub"),
    hubLines: [],
    admin: "",
    replicas: [],

    async startHub() {
      fleet.hub = await launchHub(port, fleet.hubDataDir, fleet.replicas.length > 0 ? "A" : "");
      return fleet.hub;
    },

    async stopHub(name) {
      const hub = fleet.hub;
      if (!hub) throw new Error("no hub running");
      signal(hub.proc, name);
      const result = await hub.proc.done;
      fleet.hub = undefined;
      return result;
    },

    api(method, path, body) {
      return fleet.apiAt(fleet.url, method, path, body);
    },

    async apiAt(base, method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          "content-type": "application/json",
          ...(fleet.admin ? { authorization: `Bearer ${fleet.admin}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return {
        status: response.status,
        body: (await response.json().catch(() => undefined)) as unknown,
      };
    },

    async addAgent(name) {
      const enrollment = await fleet.api("POST", "/api/managed-machines/enrollment-tokens", {
        name,
        expires_in_minutes: 10,
      });
      if (enrollment.status !== 201 && enrollment.status !== 200)
        throw new Error(
          `enrollment token: ${enrollment.status} ${JSON.stringify(enrollment.body)}`,
        );
      const token = (enrollment.body as { token: string }).token;
      const configPath = join(dir, name, "agent.toml");
      const stateDir = join(dir, name, "state");
      const registered = await runProcess({
        argv: [
          binary,
          "agent",
          "register",
          "--server",
          fleet.url,
          "--token",
          token,
          "--config",
          configPath,
          "--state-dir",
          stateDir,
          "--name",
          name,
        ],
        env: baseEnv(dir),
        captureStdout: true,
      });
      if (registered.exitCode !== 0)
        throw new Error(`agent register failed: ${registered.stderrTail.join("\n")}`);
      const machines = (await fleet.api("GET", "/api/managed-machines")).body as Machine[];
      const machine = machines.find((m) => m.name === name);
      if (!machine) throw new Error(`machine ${name} not on the hub`);
      const agent: FleetAgent = {
        name,
        configPath,
        stateDir,
        machineId: machine.id,
        lines: [],
        start(env = {}) {
          const proc = spawnProcess({
            argv: [binary, "agent", "run", "--config", configPath],
            cwd: dir,
            env: { ...baseEnv(dir), ...env },
            onStdoutLine: (line) => agent.lines.push(line),
            onStderrLine: (line) => agent.lines.push(line),
          });
          track(proc);
          agent.proc = proc;
          return proc;
        },
        async kill(how) {
          const proc = agent.proc;
          if (!proc) throw new Error(`agent ${name} is not running`);
          // Whatever it runs now is left behind by a SIGKILL: remember it for cleanup.
          for (const child of agent.borgChildren()) adopt(child.pid);
          signal(proc, how);
          const result = await proc.done;
          agent.proc = undefined;
          return result;
        },
        borgChildren() {
          return agent.proc
            ? descendants(agent.proc.pid).filter((p) => /\bborg\b/.test(p.cmdline))
            : [];
        },
      };
      agents.push(agent);
      return agent;
    },

    async createRepository(agent, body) {
      const created = await fleet.api("POST", "/api/repositories", {
        agent_machine_id: agent.machineId,
        ...body,
      });
      if (created.status !== 201)
        throw new Error(`create repository: ${created.status} ${JSON.stringify(created.body)}`);
      return (created.body as { id: number }).id;
    },

    async queue(repositoryId, action, body = {}) {
      const queued = await fleet.api("POST", `/api/repositories/${repositoryId}/${action}`, body);
      if (queued.status !== 202)
        throw new Error(`${action}: ${queued.status} ${JSON.stringify(queued.body)}`);
      return (queued.body as { job_id: number }).job_id;
    },

    async waitForJob(jobId, timeoutMs, until = () => false, base = fleet.url) {
      const deadline = Date.now() + timeoutMs;
      let last: Job | undefined;
      for (;;) {
        try {
          const { status, body } = await fleet.apiAt(base, "GET", `/api/jobs/${jobId}`);
          if (status === 200) {
            last = body as Job;
            if (until(last) || TERMINAL.includes(last.status)) return last;
          }
        } catch {
          // The hub is down (on purpose, in these tests): keep polling.
        }
        if (Date.now() > deadline) {
          throw new Error(
            `job ${jobId} did not get there in time; last seen: ${JSON.stringify(last)}\n${fleet.diagnostics()}`,
          );
        }
        await Bun.sleep(200);
      }
    },

    async jobLogs(jobId, base = fleet.url) {
      const logs: JobLogLine[] = [];
      let after = -1;
      for (;;) {
        const { status, body } = await fleet.apiAt(
          base,
          "GET",
          `/api/jobs/${jobId}/logs?after_sequence=${after}&limit=5000`,
        );
        if (status !== 200) throw new Error(`logs of job ${jobId}: ${status}`);
        const page = JobLogsResponse.parse(body);
        logs.push(...page.logs);
        const lastLine = page.logs.at(-1);
        if (!lastLine) return logs;
        after = lastLine.sequence;
      }
    },

    async borg(args, passphrase) {
      await mkdir(join(dir, "test-borg"), { recursive: true });
      const result = await runProcess({
        argv: ["borg", ...args],
        env: {
          ...baseEnv(dir),
          BORG_PASSPHRASE: passphrase,
          BORG_BASE_DIR: join(dir, "test-borg"),
          BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes",
          BORG_HOSTNAME_IS_UNIQUE: "yes",
          LANG: "C.UTF-8",
        },
        captureStdout: true,
        stderrTailLines: 40,
      });
      return { ...result, stdout: result.stdout ?? "" };
    },

    adopt,

    addMount(path) {
      mounts.push(path);
    },

    diagnostics() {
      const tail = (lines: string[]) => lines.slice(-40).join("\n");
      return [
        `--- hub (last lines)\n${tail(fleet.hubLines)}`,
        ...agents.map((a) => `--- agent ${a.name} (last lines)\n${tail(a.lines)}`),
      ].join("\n");
    },

    async cleanup() {
      // Once only: a test's finally and the file's afterAll both call it.
      if (cleaned) return;
      cleaned = true;
      for (const agent of agents) for (const child of agent.borgChildren()) adopt(child.pid);
      for (const proc of processes) {
        try {
          signal(proc, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      // Orphaned borg processes: only the pids we saw under our own agents, and only while
      // they are still that process (same start time: a pid can be reused).
      for (const [pid, started] of adopted) {
        try {
          if (startTime(pid) !== started) continue;
          // borg leads its own process group under the agent (ssh with it): end the group.
          try {
            process.kill(-pid, "SIGKILL");
          } catch {
            process.kill(pid, "SIGKILL");
          }
        } catch {
          // Already gone.
        }
      }
      await Promise.all(processes.map((p) => p.done.catch(() => undefined)));
      for (const mount of mounts.reverse()) {
        if (!existsSync(mount)) continue;
        const result = await runProcess({ argv: ["umount", mount], stderrTailLines: 5 });
        // Something still inside (a borg that has not died yet): detach it lazily.
        if (result.exitCode !== 0) await runProcess({ argv: ["umount", "-l", mount] });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    for (let i = 1; i < (options.replicas ?? 1); i++) fleet.replicas.push(await newReplica(i));
    // All at once: replicas starting together on an empty database is a case to cover.
    await Promise.all([fleet.startHub(), ...fleet.replicas.map((r) => r.start())]);
    const login = await fleet.api("POST", "/api/auth/login", {
      username: "admin",
      password: ADMIN_PASSWORD,
    });
    if (login.status !== 200) throw new Error(`login: ${login.status}`);
    fleet.admin = (login.body as { token: string }).token;
  } catch (error) {
    await fleet.cleanup();
    throw error;
  }
  return fleet;
}
