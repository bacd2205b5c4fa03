/**
 * What the hub benchmarks share: starting a server process and reading its address,
 * enrolling and registering agents through the real API, and reading a process's CPU,
 * memory and scheduler wait from /proc. Not a benchmark itself.
 */
import { readFile } from "node:fs/promises";
import { type SpawnedProcess, spawnProcess } from "../src/shared/process/spawn.ts";
import {
  AGENT_AUTH_HEADER,
  AGENT_PROTOCOL_HEADER,
  type HeartbeatRequest,
  type RegisterRequest,
} from "../src/shared/protocol/agent.ts";

export const ADMIN_PASSWORD = "bench-admin-password-0123";
/** One secret key for every replica: they must share it. */
export const SECRET_KEY = Buffer.alloc(32, 3).toString("base64");
export const HEARTBEAT_PATH = "/api/agents/heartbeat";

/** What a registered agent sends: its headers (credential included) and heartbeat body. */
export interface BenchAgent {
  headers: Record<string, string>;
  heartbeatBody: string;
}

/** The environment every benchmarked hub runs with (info: the production log level). */
export const HUB_ENV: Record<string, string> = {
  BORGCTL_ADMIN_PASSWORD: ADMIN_PASSWORD,
  NO_COLOR: "1",
  BORGCTL_LOG_LEVEL: "info",
  BORGCTL_SECRET_KEY: SECRET_KEY,
};

/** Runs `count` tasks with at most `concurrency` in flight; the first failure rejects. */
export async function inPool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export async function postJson<T>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** The first admin's session token (the hub was started with ADMIN_PASSWORD). */
export async function adminToken(base: string): Promise<string> {
  const login = await postJson<{ token: string }>(`${base}/api/auth/login`, {
    username: "admin",
    password: ADMIN_PASSWORD,
  });
  return login.token;
}

/**
 * `count` agents through the real protocol: an enrollment token each, a registration
 * each (hostname `<prefix>-agent-00042`), then one heartbeat each, which moves the
 * machine from pending to online (an audited change), so a measurement starts with a
 * fleet that is already online. Each pass is timed on its own.
 */
export async function registerAgents(
  base: string,
  admin: string,
  count: number,
  prefix: string,
  concurrency = 50,
) {
  const auth = { authorization: `Bearer ${admin}` };
  const tokens: string[] = [];
  const tokensStarted = performance.now();
  await inPool(count, concurrency, async (i) => {
    const created = await postJson<{ token: string }>(
      `${base}/api/managed-machines/enrollment-tokens`,
      { name: `${prefix}-${i}`, expires_in_minutes: 60 },
      auth,
    );
    tokens[i] = created.token;
  });
  const tokensMs = performance.now() - tokensStarted;

  const agents: BenchAgent[] = [];
  const registerStarted = performance.now();
  await inPool(count, concurrency, async (i) => {
    const request: RegisterRequest = {
      enrollment_token: tokens[i] ?? "",
      protocol_version: 1,
      hostname: `${prefix}-agent-${String(i).padStart(5, "0")}`,
      os: "linux",
      arch: "x64",
      agent_version: "bench",
      borg_versions: [{ major: 1, version: "1.2.4", path: "/usr/bin/borg" }],
      capabilities: ["backup.create", "repo.prune"],
    };
    const registered = await postJson<{ agent_id: string; agent_token: string }>(
      `${base}/api/agents/register`,
      request,
      { [AGENT_PROTOCOL_HEADER]: "1" },
    );
    const heartbeat: HeartbeatRequest = {
      agent_id: registered.agent_id,
      protocol_version: 1,
      running_job_ids: [],
    };
    agents[i] = {
      headers: {
        [AGENT_AUTH_HEADER]: `Bearer ${registered.agent_token}`,
        [AGENT_PROTOCOL_HEADER]: "1",
        "content-type": "application/json",
      },
      heartbeatBody: JSON.stringify(heartbeat),
    };
  });
  const registerMs = performance.now() - registerStarted;

  const onlineStarted = performance.now();
  await inPool(count, concurrency, async (i) => {
    const agent = agents[i] as BenchAgent;
    const response = await fetch(`${base}${HEARTBEAT_PATH}`, {
      method: "POST",
      headers: agent.headers,
      body: agent.heartbeatBody,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`first heartbeat answered ${response.status}: ${text}`);
  });
  const onlineMs = performance.now() - onlineStarted;
  return { agents, tokensMs, registerMs, onlineMs };
}

/**
 * Starts a process and resolves with the first match of `pattern` in its output;
 * everything else it prints (the hub's access log) is discarded.
 */
export async function startServer(
  argv: string[],
  env: Record<string, string>,
  pattern: RegExp,
): Promise<{ proc: SpawnedProcess; base: string }> {
  const found = Promise.withResolvers<string>();
  const look = (line: string) => {
    const match = pattern.exec(line)?.[1];
    if (match) found.resolve(match);
  };
  const proc = spawnProcess({ argv, env, onStderrLine: look, onStdoutLine: look });
  void proc.done.then((r) =>
    found.reject(new Error(`${argv[0]} exited early: ${r.stderrTail.join("\n")}`)),
  );
  return { proc, base: await found.promise };
}

/** `borgctl server` on 127.0.0.1 with its data in `dataDir`; resolves once it listens. */
export function startHub(binary: string, dataDir: string, env: Record<string, string> = {}) {
  return startServer(
    [binary, "server", "--addr", "127.0.0.1:0", "--data-dir", dataDir],
    { ...HUB_ENV, ...env },
    /listening on (http:\/\/\S+)/,
  );
}

export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

/** utime + stime of a process in ms (fields 14 and 15 of /proc/PID/stat, 100 ticks/s). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * How long the main thread of `pid` (the JS thread) was ready to run but waited for a
 * CPU, in ms (/proc/PID/schedstat, field 2): other load on the machine shows up here.
 */
export async function runQueueWaitMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/schedstat`, "utf8")).trim().split(" ");
  return Number(fields[1] ?? 0) / 1e6;
}

/**
 * Busy time of the whole machine in ms, all cores (/proc/stat: everything but idle and
 * iowait; steal counts as busy, it is CPU we did not get), to show load from outside.
 */
export async function machineBusyMs(): Promise<number> {
  const line = (await readFile("/proc/stat", "utf8")).split("\n", 1)[0] ?? "";
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (ticks.reduce((a, b) => a + b, 0) - idle) * 10;
}

/** The sum of `read` over several processes (the replicas of one run). */
export async function sumOver(pids: number[], read: (pid: number) => Promise<number>) {
  let total = 0;
  for (const pid of pids) total += await read(pid);
  return total;
}

/** Stops every process in `running` (servers a benchmark started) and empties it. */
export async function stopAll(running: SpawnedProcess[]): Promise<void> {
  for (const proc of running.splice(0)) {
    proc.cancel();
    await proc.done;
  }
}
