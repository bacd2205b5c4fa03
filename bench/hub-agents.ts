/**
 * The hub with many agents: heartbeat and poll latency in the steady state of 5,000
 * registered agents (goal: p99 under 50 ms with the default 15 s poll and 30 s heartbeat
 * intervals), against a baseline in the same run — a bare Bun.serve in its own process
 * answering `{}` to the same request mix on the same schedule from the same client, i.e.
 * what the client and loopback alone cost.
 *
 * Setup: the compiled hub on 127.0.0.1 with a temp data dir (info log level: the
 * "listening on" line needs it, and it is the production default, so the per-request
 * access log is part of what is measured; this process drains it), one enrollment token
 * and one registration per agent, then one heartbeat each so every agent is online
 * before the clock starts.
 * Steady state: every agent heartbeats every 30 s and polls every 15 s, each agent's
 * first call at a random offset within its interval (at 5,000 agents ~167 heartbeats/s
 * + ~333 polls/s). Polls use wait=0: a long poll's held time is the protocol waiting for
 * work, not latency, so long-poll waiting is excluded. Latency is measured by the
 * client, request start to body read (10 s timeout, counted as an error); an agent never
 * has two calls of one kind in flight (a call due meanwhile is skipped and counted).
 * Alongside: CPU used by the server, this client and everything else on the machine, and
 * how long each JS thread waited for a CPU, since other load on a small machine shows
 * up directly in the tail. Not a test: prints tables.
 * Env: BENCH_AGENTS (default 5000), BENCH_SECONDS (default 30).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SpawnedProcess, spawnProcess } from "../src/shared/process/spawn.ts";
import {
  AGENT_AUTH_HEADER,
  AGENT_PROTOCOL_HEADER,
  type HeartbeatRequest,
  type RegisterRequest,
} from "../src/shared/protocol/agent.ts";
import { hostBinary } from "../test/helpers/binary.ts";
import { printTable, summarize } from "./stats.ts";

const AGENTS = Number(process.env.BENCH_AGENTS ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const HEARTBEAT_MS = 30_000;
const POLL_MS = 15_000;
const SETUP_CONCURRENCY = 50;
const REQUEST_TIMEOUT_MS = 10_000;
const ADMIN_PASSWORD = "bench-admin-password-0123";
const POLL_PATH = "/api/agents/jobs/poll?limit=1&wait=0";
const HEARTBEAT_PATH = "/api/agents/heartbeat";

interface Agent {
  headers: Record<string, string>;
  heartbeatBody: string;
}

type Kind = "heartbeat" | "poll";

/** One scheduled call: `at` ms after the run starts. */
interface Call {
  at: number;
  agent: number;
  kind: Kind;
}

interface KindResult {
  samples: number[];
  errors: number;
  skipped: number;
}

interface RunResult {
  heartbeat: KindResult;
  poll: KindResult;
  seconds: number;
  /** How late calls went out after their scheduled time (the client falling behind). */
  lateMs: number[];
  clientCpuMs: number;
  /** The slowest answer of each second of the run, to tell one stall from a slow spread. */
  slowestPerSecond: number[];
  errorExamples: Set<string>;
}

/** Runs `count` tasks with at most `concurrency` in flight; the first failure rejects. */
async function inPool(
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

async function postJson<T>(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function registerAgents(base: string, adminToken: string) {
  const admin = { authorization: `Bearer ${adminToken}` };
  const tokens: string[] = [];
  const tokensStarted = performance.now();
  await inPool(AGENTS, SETUP_CONCURRENCY, async (i) => {
    const created = await postJson<{ token: string }>(
      `${base}/api/managed-machines/enrollment-tokens`,
      { name: `bench-${i}`, expires_in_minutes: 60 },
      admin,
    );
    tokens[i] = created.token;
  });
  const tokensMs = performance.now() - tokensStarted;

  const agents: Agent[] = [];
  const registerStarted = performance.now();
  await inPool(AGENTS, SETUP_CONCURRENCY, async (i) => {
    const hostname = `bench-agent-${String(i).padStart(5, "0")}`;
    const request: RegisterRequest = {
      enrollment_token: tokens[i] ?? "",
      protocol_version: 1,
      hostname,
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

  // The first heartbeat moves pending → online (an audited change); the steady state
  // is agents that are already online.
  const onlineStarted = performance.now();
  await inPool(AGENTS, SETUP_CONCURRENCY, async (i) => {
    const agent = agents[i] as Agent;
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

/** Every agent's calls over the run, each agent starting at a random point of its interval. */
function schedule(agents: number, durationMs: number): Call[] {
  const calls: Call[] = [];
  for (let agent = 0; agent < agents; agent++) {
    for (const [kind, every] of [
      ["heartbeat", HEARTBEAT_MS],
      ["poll", POLL_MS],
    ] as const) {
      for (let at = Math.random() * every; at < durationMs; at += every) {
        calls.push({ at, agent, kind });
      }
    }
  }
  return calls.sort((a, b) => a.at - b.at);
}

/**
 * Sends the calls on time from one loop: it sleeps until the next call is due, fires
 * every due call without awaiting it, and finally waits for the stragglers.
 */
async function runSchedule(base: string, agents: Agent[], calls: Call[]): Promise<RunResult> {
  const result: RunResult = {
    heartbeat: { samples: [], errors: 0, skipped: 0 },
    poll: { samples: [], errors: 0, skipped: 0 },
    seconds: 0,
    lateMs: [],
    clientCpuMs: 0,
    slowestPerSecond: [],
    errorExamples: new Set(),
  };
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const busy = { heartbeat: new Uint8Array(agents.length), poll: new Uint8Array(agents.length) };
  const pending = new Set<Promise<void>>();

  const send = async (call: Call) => {
    const agent = agents[call.agent] as Agent;
    const into = result[call.kind];
    const init: RequestInit =
      call.kind === "heartbeat"
        ? { method: "POST", headers: agent.headers, body: agent.heartbeatBody }
        : { headers: agent.headers };
    busy[call.kind][call.agent] = 1;
    const started = performance.now();
    try {
      const response = await fetch(
        `${base}${call.kind === "heartbeat" ? HEARTBEAT_PATH : POLL_PATH}`,
        { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
      );
      await response.arrayBuffer();
      const ms = performance.now() - started;
      const second = Math.floor((started - t0) / 1000);
      result.slowestPerSecond[second] = Math.max(result.slowestPerSecond[second] ?? 0, ms);
      if (response.ok) into.samples.push(ms);
      else {
        into.errors++;
        result.errorExamples.add(`${call.kind}: HTTP ${response.status}`);
      }
    } catch (error) {
      into.errors++;
      result.errorExamples.add(`${call.kind}: ${(error as Error).message}`);
    } finally {
      busy[call.kind][call.agent] = 0;
    }
  };

  let i = 0;
  while (i < calls.length) {
    const now = performance.now() - t0;
    for (let call = calls[i]; call && call.at <= now; call = calls[++i]) {
      if (busy[call.kind][call.agent]) {
        result[call.kind].skipped++;
        continue;
      }
      result.lateMs.push(now - call.at);
      const sent = send(call);
      pending.add(sent);
      void sent.finally(() => pending.delete(sent));
    }
    const next = calls[i];
    if (next) await Bun.sleep(Math.max(0, next.at - (performance.now() - t0)));
  }
  await Promise.all(pending);
  result.seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  result.clientCpuMs = (cpu.user + cpu.system) / 1000;
  return result;
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

/** utime + stime of a process in ms (fields 14 and 15 of /proc/PID/stat, 100 ticks/s). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * How long the main thread of `pid` (the JS thread) was ready to run but waited for a
 * CPU, in ms (/proc/PID/schedstat, field 2): other load on the machine shows up here.
 */
async function runQueueWaitMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/schedstat`, "utf8")).trim().split(" ");
  return Number(fields[1] ?? 0) / 1e6;
}

/**
 * Busy time of the whole machine in ms, all cores (/proc/stat: everything but idle and
 * iowait; steal counts as busy, it is CPU we did not get), to show load from outside.
 */
async function machineBusyMs(): Promise<number> {
  const line = (await readFile("/proc/stat", "utf8")).split("\n", 1)[0] ?? "";
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (ticks.reduce((a, b) => a + b, 0) - idle) * 10;
}

/** One steady-state run against the server `pid` at `base`, with the CPU it took. */
async function measure(pid: number, base: string, agents: Agent[], calls: Call[]) {
  const serverBefore = await cpuMs(pid);
  const machineBefore = await machineBusyMs();
  const serverWaitBefore = await runQueueWaitMs(pid);
  const clientWaitBefore = await runQueueWaitMs(process.pid);
  const run = await runSchedule(base, agents, calls);
  const serverCpuMs = (await cpuMs(pid)) - serverBefore;
  const otherCpuMs = (await machineBusyMs()) - machineBefore - serverCpuMs - run.clientCpuMs;
  const serverWaitMs = (await runQueueWaitMs(pid)) - serverWaitBefore;
  const clientWaitMs = (await runQueueWaitMs(process.pid)) - clientWaitBefore;
  return { run, serverCpuMs, otherCpuMs, serverWaitMs, clientWaitMs };
}

/** Starts a process and resolves with the first match of `pattern` in its output. */
async function startServer(
  argv: string[],
  env: Record<string, string>,
  pattern: RegExp,
): Promise<{ proc: SpawnedProcess; base: string }> {
  const found = Promise.withResolvers<string>();
  const look = (line: string) => {
    const match = pattern.exec(line)?.[1];
    if (match) found.resolve(match);
  };
  // Everything else the hub prints (one access-log line per request) is discarded.
  const proc = spawnProcess({ argv, env, onStderrLine: look, onStdoutLine: look });
  void proc.done.then((r) =>
    found.reject(new Error(`${argv[0]} exited early: ${r.stderrTail.join("\n")}`)),
  );
  return { proc, base: await found.promise };
}

/** summarize() plus the p99, the number the goal is stated in. */
function kindRow(label: string, r: KindResult, seconds: number): (string | number)[] {
  const s = summarize(r.samples);
  const sorted = [...r.samples].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? 0;
  return [label, s.n, s.n / seconds, s.median, s.p95, p99, s.max, r.errors, r.skipped];
}

const BASELINE_SERVER = `
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json({}) });
console.log("baseline on http://127.0.0.1:" + server.port);
`;

const dir = await mkdtemp(join(tmpdir(), "borgctl-bench-hub-"));
let hub: SpawnedProcess | undefined;
let bare: SpawnedProcess | undefined;
try {
  const binary = await hostBinary();
  const started = await startServer(
    [binary, "server", "--addr", "127.0.0.1:0", "--data-dir", join(dir, "data")],
    { BORGCTL_ADMIN_PASSWORD: ADMIN_PASSWORD, NO_COLOR: "1", BORGCTL_LOG_LEVEL: "info" },
    /listening on (http:\/\/\S+)/,
  );
  hub = started.proc;
  const base = started.base;
  const idleRss = await rssKiB(hub.pid);

  const login = await postJson<{ token: string }>(`${base}/api/auth/login`, {
    username: "admin",
    password: ADMIN_PASSWORD,
  });
  const { agents, tokensMs, registerMs, onlineMs } = await registerAgents(base, login.token);
  const setupRss = await rssKiB(hub.pid);

  const calls = schedule(AGENTS, SECONDS * 1000);
  const hubRun = await measure(hub.pid, base, agents, calls);
  const runRss = await rssKiB(hub.pid);
  hub.cancel();
  await hub.done;
  hub = undefined;

  const bareStarted = await startServer(
    [process.execPath, "-e", BASELINE_SERVER],
    {},
    /baseline on (http:\/\/\S+)/,
  );
  bare = bareStarted.proc;
  const bareRun = await measure(bare.pid, bareStarted.base, agents, calls);

  const setupRow = (step: string, ms: number) => [step, AGENTS, ms / 1000, AGENTS / (ms / 1000)];
  printTable(
    `hub with ${AGENTS} agents: setup, ${SETUP_CONCURRENCY} requests in flight`,
    ["step", "n", "seconds", "per second"],
    [
      setupRow("enrollment tokens created", tokensMs),
      setupRow("agents registered", registerMs),
      setupRow("first heartbeats (pending → online)", onlineMs),
    ],
  );
  const { run: hubR } = hubRun;
  const { run: bareR } = bareRun;
  printTable(
    `steady state, ${SECONDS} s: heartbeat every ${HEARTBEAT_MS / 1000} s, poll (wait=0) every ${POLL_MS / 1000} s per agent (latency ms)`,
    ["target", "requests", "req/s", "median", "p95", "p99", "max", "errors", "skipped"],
    [
      kindRow("bare Bun.serve heartbeat (baseline)", bareR.heartbeat, bareR.seconds),
      kindRow("bare Bun.serve poll (baseline)", bareR.poll, bareR.seconds),
      kindRow("hub POST /api/agents/heartbeat", hubR.heartbeat, hubR.seconds),
      kindRow("hub GET /api/agents/jobs/poll", hubR.poll, hubR.seconds),
    ],
  );
  const pct = (ms: number, seconds: number) => `${((ms / (seconds * 1000)) * 100).toFixed(0)} %`;
  const processRow = (label: string, m: typeof hubRun) => {
    const late = summarize(m.run.lateMs);
    const over50 = m.run.slowestPerSecond.filter((ms) => ms > 50).length;
    return [
      label,
      pct(m.serverCpuMs, m.run.seconds),
      pct(m.run.clientCpuMs, m.run.seconds),
      pct(Math.max(0, m.otherCpuMs), m.run.seconds),
      m.serverWaitMs,
      m.clientWaitMs,
      late.p95,
      late.max,
      `${over50} of ${m.run.slowestPerSecond.length}`,
    ];
  };
  printTable(
    "during the steady state: CPU used (% of one core), JS thread waiting for a CPU (ms, total), calls sent late (ms)",
    [
      "run",
      "server",
      "client",
      "others",
      "server waited",
      "client waited",
      "late p95",
      "late max",
      "seconds with a call > 50 ms",
    ],
    [processRow("bare Bun.serve (baseline)", bareRun), processRow("hub", hubRun)],
  );
  printTable(
    "hub process memory (RSS, MiB)",
    ["when", "RSS"],
    [
      ["after start", idleRss / 1024],
      [`after registering ${AGENTS} agents`, setupRss / 1024],
      [`after the ${SECONDS} s steady state`, runRss / 1024],
    ],
  );
  const examples = [...hubR.errorExamples, ...bareR.errorExamples];
  if (examples.length > 0) console.log(`\nerrors seen: ${examples.slice(0, 10).join("; ")}`);
} finally {
  for (const proc of [hub, bare]) {
    proc?.cancel();
    await proc?.done;
  }
  await rm(dir, { recursive: true, force: true });
}
