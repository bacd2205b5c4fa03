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
 *
 * Stores and replicas, same run and same schedule: the hub on SQLite (the baseline of the
 * comparison), and on PostgreSQL with 1 and with 2 replicas (`--store`, `--replicas`).
 * PostgreSQL is a throwaway cluster on 127.0.0.1 (test/helpers/postgres.ts) with its
 * durable defaults (fsync, synchronous_commit on), each run on a fresh database. With N
 * replicas agent i talks to replica i mod N, as a load balancer would spread them, and
 * hub CPU is the sum over the replicas; PostgreSQL's own processes are in "others".
 * Dispatch latency: PROBES extra agents (not in the schedule) each hold a long poll
 * (wait=25) on the LAST replica, and once a second a backup is queued for one of them
 * through the FIRST replica's user API; the time from sending the queue request to the
 * poll's answer carrying the job is the sample (with one replica: the same hub). The job
 * is then canceled so the probe's next poll waits again.
 *
 * Env: BENCH_AGENTS (default 5000), BENCH_SECONDS (default 30), BENCH_BINARY (the hub
 * binary; default dist/borgctl, built when stale).
 * Flags: --store sqlite,postgres (default both; postgres is skipped, saying so, when
 * PostgreSQL is not installed), --replicas 1,2 (PostgreSQL replica counts; default 1,2).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { SpawnedProcess } from "../src/shared/process/spawn.ts";
import { hostBinary } from "../test/helpers/binary.ts";
import { type PostgresCluster, postgresBinDir, startPostgres } from "../test/helpers/postgres.ts";
import {
  type BenchAgent as Agent,
  adminToken,
  cpuMs,
  HEARTBEAT_PATH,
  machineBusyMs,
  postJson,
  registerAgents as registerThrough,
  rssKiB,
  runQueueWaitMs,
  startHub,
  startServer,
  stopAll,
  sumOver,
} from "./hub-fixture.ts";
import { recordResult } from "./results.ts";
import { printTable, summarize } from "./stats.ts";

const AGENTS = Number(process.env.BENCH_AGENTS ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const HEARTBEAT_MS = 30_000;
const POLL_MS = 15_000;
const SETUP_CONCURRENCY = 50;
const REQUEST_TIMEOUT_MS = 10_000;
const POLL_PATH = "/api/agents/jobs/poll?limit=1&wait=0";
const PROBES = 5;
const PROBE_EVERY_MS = 1_000;
const PROBE_WAIT_SECONDS = 25;

const { values: flags } = parseArgs({
  options: { store: { type: "string" }, replicas: { type: "string" } },
});
const STORES = (flags.store ?? "sqlite,postgres").split(",").map((s) => s.trim());
const REPLICAS = (flags.replicas ?? "1,2").split(",").map(Number);
for (const store of STORES) {
  if (store !== "sqlite" && store !== "postgres") throw new Error(`--store: unknown "${store}"`);
}
if (REPLICAS.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("--replicas: 1,2,…");

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

const registerAgents = (base: string, admin: string, count = AGENTS, prefix = "bench") =>
  registerThrough(base, admin, count, prefix, SETUP_CONCURRENCY);

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
async function runSchedule(bases: string[], agents: Agent[], calls: Call[]): Promise<RunResult> {
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
    const base = bases[call.agent % bases.length] as string;
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

/**
 * One steady-state run against the servers `pids` at `bases` (agent i → base i mod N),
 * with the CPU they took; `during` runs alongside (the dispatch probes) and is stopped
 * when the schedule is done.
 */
async function measure(
  pids: number[],
  bases: string[],
  agents: Agent[],
  calls: Call[],
  during?: (stop: AbortSignal) => Promise<void>,
) {
  const serverBefore = await sumOver(pids, cpuMs);
  const machineBefore = await machineBusyMs();
  const serverWaitBefore = await sumOver(pids, runQueueWaitMs);
  const clientWaitBefore = await runQueueWaitMs(process.pid);
  const stop = new AbortController();
  const alongside = during?.(stop.signal);
  const run = await runSchedule(bases, agents, calls);
  stop.abort();
  await alongside;
  const serverCpuMs = (await sumOver(pids, cpuMs)) - serverBefore;
  const otherCpuMs = (await machineBusyMs()) - machineBefore - serverCpuMs - run.clientCpuMs;
  const serverWaitMs = (await sumOver(pids, runQueueWaitMs)) - serverWaitBefore;
  const clientWaitMs = (await runQueueWaitMs(process.pid)) - clientWaitBefore;
  return { run, serverCpuMs, otherCpuMs, serverWaitMs, clientWaitMs };
}

interface Probe {
  agent: Agent;
  repositoryId: number;
}

/** PROBES agents outside the schedule, each with a repository to queue backups on. */
async function setUpProbes(base: string, adminToken: string): Promise<Probe[]> {
  const admin = { authorization: `Bearer ${adminToken}` };
  const { agents } = await registerAgents(base, adminToken, PROBES, "probe");
  const machines = (await (
    await fetch(`${base}/api/managed-machines`, { headers: admin })
  ).json()) as {
    id: number;
    name: string;
  }[];
  const probes: Probe[] = [];
  for (let i = 0; i < PROBES; i++) {
    // A registration without a name is named after its hostname (registerAgents).
    const hostname = `probe-agent-${String(i).padStart(5, "0")}`;
    const machine = machines.find((m) => m.name === hostname);
    if (!machine) throw new Error(`${hostname} is not on the hub`);
    const repository = await postJson<{ id: number }>(
      `${base}/api/repositories`,
      {
        name: `probe-${i}`,
        agent_machine_id: machine.id,
        location: `/srv/borg/probe-${i}`,
        passphrase: "bench-probe-passphrase",
        source_paths: ["/etc"],
      },
      admin,
    );
    probes.push({ agent: agents[i] as Agent, repositoryId: repository.id });
  }
  return probes;
}

/**
 * Once a second, one probe (in turn) holds a long poll on `pollBase`; when it is held, a
 * backup is queued for it through `queueBase`; the sample is queue request sent → poll
 * answered with that job. Then the job is canceled. Errors are counted, not thrown.
 */
async function probeDispatch(
  probes: Probe[],
  queueBase: string,
  pollBase: string,
  adminToken: string,
  stop: AbortSignal,
  into: { samples: number[]; errors: number; examples: Set<string> },
) {
  const admin = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  for (let round = 0; !stop.aborted; round++) {
    const next = Bun.sleep(PROBE_EVERY_MS);
    const probe = probes[round % probes.length] as Probe;
    try {
      // The probes are outside the schedule: keep them online (offline after 2 min).
      await fetch(`${pollBase}${HEARTBEAT_PATH}`, {
        method: "POST",
        headers: probe.agent.headers,
        body: probe.agent.heartbeatBody,
      }).then((r) => r.arrayBuffer());
      const polling = fetch(`${pollBase}/api/agents/jobs/poll?limit=1&wait=${PROBE_WAIT_SECONDS}`, {
        headers: probe.agent.headers,
        signal: AbortSignal.timeout((PROBE_WAIT_SECONDS + 5) * 1000),
      }).then(async (r) => ({
        at: performance.now(),
        body: (await r.json()) as { jobs?: { id: number }[] },
      }));
      // Give the poll time to reach the hub and start waiting (not part of the sample).
      await Bun.sleep(100);
      const sent = performance.now();
      const queued = await postJson<{ job_id: number }>(
        `${queueBase}/api/repositories/${probe.repositoryId}/backup`,
        {},
        admin,
      );
      const answered = await polling;
      if (answered.body.jobs?.some((j) => j.id === queued.job_id)) {
        into.samples.push(answered.at - sent);
      } else {
        into.errors++;
        into.examples.add("dispatch: a poll answered without the queued job");
      }
      await postJson(`${queueBase}/api/jobs/${queued.job_id}/cancel`, {}, admin);
    } catch (error) {
      into.errors++;
      into.examples.add(`dispatch: ${(error as Error).message}`);
    }
    await next;
  }
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

interface Target {
  label: string;
  store: "sqlite" | "postgres";
  replicas: number;
}

interface TargetResult {
  target: Target;
  setup: { tokensMs: number; registerMs: number; onlineMs: number };
  measured: Awaited<ReturnType<typeof measure>>;
  dispatch: { samples: number[]; errors: number; examples: Set<string> };
  rssMiB: { idle: number; setup: number; run: number };
  agents: Agent[];
}

const targets: Target[] = [];
if (STORES.includes("sqlite"))
  targets.push({ label: "SQLite, 1 hub", store: "sqlite", replicas: 1 });
const postgresMissing = STORES.includes("postgres") && !(await postgresBinDir());
if (postgresMissing) console.log("PostgreSQL is not installed: its runs are skipped");
if (STORES.includes("postgres") && !postgresMissing) {
  for (const n of REPLICAS) {
    targets.push({
      label: `PostgreSQL, ${n} replica${n === 1 ? "" : "s"}`,
      store: "postgres",
      replicas: n,
    });
  }
}

const dir = await mkdtemp(join(tmpdir(), "borgctl-bench-hub-"));
const running: SpawnedProcess[] = [];
let cluster: PostgresCluster | undefined;

/** Starts the target's hubs (all at once, as replicas would), loads them, and stops them. */
async function runTarget(binary: string, target: Target, calls: Call[]): Promise<TargetResult> {
  const env: Record<string, string> = {};
  if (target.store === "postgres") {
    cluster ??= await startPostgres({ durable: true });
    env.BORGCTL_DATABASE_URL = await cluster.createDatabase("bench");
  }
  const hubs = await Promise.all(
    Array.from({ length: target.replicas }, (_, i) =>
      startHub(binary, join(dir, `${targets.indexOf(target)}-${i}`), env),
    ),
  );
  running.push(...hubs.map((h) => h.proc));
  const pids = hubs.map((h) => h.proc.pid);
  const bases = hubs.map((h) => h.base);
  const first = bases[0] as string;
  const rss = async () => (await sumOver(pids, rssKiB)) / 1024;
  const idle = await rss();
  const admin = await adminToken(first);
  const { agents, tokensMs, registerMs, onlineMs } = await registerAgents(first, admin);
  const probes = await setUpProbes(first, admin);
  const setupRss = await rss();
  const dispatch = { samples: [] as number[], errors: 0, examples: new Set<string>() };
  const measured = await measure(pids, bases, agents, calls, (stop) =>
    probeDispatch(probes, first, bases.at(-1) as string, admin, stop, dispatch),
  );
  const runRss = await rss();
  await stopAll(running);
  return {
    target,
    setup: { tokensMs, registerMs, onlineMs },
    measured,
    dispatch,
    rssMiB: { idle, setup: setupRss, run: runRss },
    agents,
  };
}

const p99 = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? 0;
};

try {
  // BENCH_BINARY: another build to compare (e.g. the commit before a change).
  const binary = process.env.BENCH_BINARY ?? (await hostBinary());
  const calls = schedule(AGENTS, SECONDS * 1000);
  const results: TargetResult[] = [];
  for (const target of targets) {
    console.log(`running: ${target.label} …`);
    results.push(await runTarget(binary, target, calls));
  }

  const bareStarted = await startServer(
    [process.execPath, "-e", BASELINE_SERVER],
    {},
    /baseline on (http:\/\/\S+)/,
  );
  running.push(bareStarted.proc);
  const bareRun = await measure(
    [bareStarted.proc.pid],
    [bareStarted.base],
    results[0]?.agents ?? registerlessAgents(calls),
    calls,
  );
  await stopAll(running);

  printTable(
    `hub with ${AGENTS} agents: setup through the first hub, ${SETUP_CONCURRENCY} requests in flight (per second)`,
    ["target", "enrollment tokens", "registrations", "first heartbeats"],
    results.map((r) => [
      r.target.label,
      AGENTS / (r.setup.tokensMs / 1000),
      AGENTS / (r.setup.registerMs / 1000),
      AGENTS / (r.setup.onlineMs / 1000),
    ]),
  );
  const { run: bareR } = bareRun;
  printTable(
    `steady state, ${SECONDS} s: heartbeat every ${HEARTBEAT_MS / 1000} s, poll (wait=0) every ${POLL_MS / 1000} s per agent (latency ms)`,
    ["target", "requests", "req/s", "median", "p95", "p99", "max", "errors", "skipped"],
    [
      kindRow("bare Bun.serve heartbeat (baseline)", bareR.heartbeat, bareR.seconds),
      kindRow("bare Bun.serve poll (baseline)", bareR.poll, bareR.seconds),
      ...results.flatMap((r) => [
        kindRow(`${r.target.label}: heartbeat`, r.measured.run.heartbeat, r.measured.run.seconds),
        kindRow(`${r.target.label}: poll`, r.measured.run.poll, r.measured.run.seconds),
      ]),
    ],
  );
  const pct = (ms: number, seconds: number) => `${((ms / (seconds * 1000)) * 100).toFixed(0)} %`;
  const processRow = (label: string, m: typeof bareRun) => {
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
    "during the steady state: CPU used (% of one core; server = all replicas; others includes PostgreSQL), JS threads waiting for a CPU (ms, total), calls sent late (ms)",
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
    [
      processRow("bare Bun.serve (baseline)", bareRun),
      ...results.map((r) => processRow(r.target.label, r.measured)),
    ],
  );

  // The comparison: SQLite is the baseline (×1.00); the others are relative to it.
  const base = results.find((r) => r.target.store === "sqlite");
  const ratio = (value: number, of: number | undefined) =>
    of === undefined || of === 0 ? "" : ` (×${(value / of).toFixed(2)})`;
  const cell = (value: number, of: number | undefined) => `${value.toFixed(1)}${ratio(value, of)}`;
  printTable(
    `SQLite vs PostgreSQL, ${AGENTS} agents, ${SECONDS} s (ms; dispatch = queued through the first hub → long poll on the last answered; hub CPU in % of one core)`,
    [
      "target",
      "heartbeat p50",
      "heartbeat p99",
      "poll p50",
      "poll p99",
      "dispatch p50",
      "dispatch p99",
      "dispatch n",
      "hub CPU",
      "errors",
    ],
    results.map((r) => {
      const m = r.measured;
      const b = base?.measured;
      const s = (samples: number[]) => summarize(samples).median;
      return [
        `${r.target.label}${r === base ? " (baseline)" : ""}`,
        cell(s(m.run.heartbeat.samples), b && s(b.run.heartbeat.samples)),
        cell(p99(m.run.heartbeat.samples), b && p99(b.run.heartbeat.samples)),
        cell(s(m.run.poll.samples), b && s(b.run.poll.samples)),
        cell(p99(m.run.poll.samples), b && p99(b.run.poll.samples)),
        cell(s(r.dispatch.samples), base && s(base.dispatch.samples)),
        cell(p99(r.dispatch.samples), base && p99(base.dispatch.samples)),
        r.dispatch.samples.length,
        `${((m.serverCpuMs / (m.run.seconds * 1000)) * 100).toFixed(0)} %${ratio(m.serverCpuMs, b?.serverCpuMs)}`,
        m.run.heartbeat.errors + m.run.poll.errors + r.dispatch.errors,
      ];
    }),
  );
  const setup = `${AGENTS} agents, ${SECONDS} s, hb ${HEARTBEAT_MS / 1000} s + poll ${POLL_MS / 1000} s each`;
  for (const r of results) {
    const m = r.measured.run;
    const errors = m.heartbeat.errors + m.poll.errors;
    for (const [kind, samples, bareSamples] of [
      ["heartbeat", m.heartbeat.samples, bareR.heartbeat.samples],
      ["poll (wait=0)", m.poll.samples, bareR.poll.samples],
    ] as const) {
      const value = p99(samples);
      recordResult({
        measure: `steady state ${kind} latency, ${r.target.label}`,
        setup,
        value: `p50 ${summarize(samples).median.toFixed(1)} ms, p99 ${value.toFixed(1)} ms (${errors} errors)`,
        baseline: `bare Bun.serve: p99 ${p99(bareSamples).toFixed(1)} ms`,
        ratio: `p99 ${value.toFixed(1)} ms`,
        goal: "p99 < 50 ms",
        met: value < 50 && errors === 0,
      });
    }
    recordResult({
      measure: `dispatch queue → long poll answered, ${r.target.label}`,
      setup: `${r.dispatch.samples.length} jobs, ${PROBES} parked probes${r.target.replicas > 1 ? ", queued on the first replica, polled on the last" : ""}`,
      value: `p50 ${summarize(r.dispatch.samples).median.toFixed(1)} ms, p99 ${p99(r.dispatch.samples).toFixed(1)} ms (${r.dispatch.errors} errors)`,
      baseline: "",
      ratio: "",
      goal: "",
    });
    recordResult({
      measure: `hub RSS, ${r.target.label}`,
      setup,
      value: `${r.rssMiB.run.toFixed(0)} MiB after the run (${r.rssMiB.idle.toFixed(0)} at start)`,
      baseline: "",
      ratio: `${(((r.rssMiB.run - r.rssMiB.idle) * 1024) / AGENTS).toFixed(1)} KiB per agent`,
      goal: "",
    });
  }
  printTable(
    "hub process memory (RSS, MiB; all replicas)",
    [
      "target",
      "after start",
      `after registering ${AGENTS} agents`,
      `after the ${SECONDS} s steady state`,
    ],
    results.map((r) => [r.target.label, r.rssMiB.idle, r.rssMiB.setup, r.rssMiB.run]),
  );
  const examples = [
    ...results.flatMap((r) => [...r.measured.run.errorExamples, ...r.dispatch.examples]),
    ...bareR.errorExamples,
  ];
  if (examples.length > 0) console.log(`\nerrors seen: ${examples.slice(0, 10).join("; ")}`);
} finally {
  await stopAll(running);
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
}

/** Only when no hub ran: the bare server ignores headers and bodies anyway. */
function registerlessAgents(calls: Call[]): Agent[] {
  const count = calls.reduce((max, c) => Math.max(max, c.agent + 1), 0);
  return Array.from({ length: count }, () => ({
    headers: { "content-type": "application/json" },
    heartbeatBody: "{}",
  }));
}
