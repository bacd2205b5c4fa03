/**
 * The hub at fleet size: N agents (default 19,000), each holding a long poll the whole
 * time as the real agent does (`wait=25`, sent again the moment it is answered) and
 * heartbeating every 30 s, for RUNS consecutive measurement windows on one hub (goal:
 * heartbeat p99 and poll p99 under 50 ms in each). Baseline in the same run: a bare
 * Bun.serve in its own process that holds each poll for `wait` s and answers a heartbeat
 * at once, under the same clients.
 *
 * "Poll latency" of a long poll is how long after its `wait` an empty poll was answered:
 * what the hub adds to the protocol's own waiting (timer, event loop, the response). The
 * heartbeat's is its round trip. Both are measured by the clients (bench/fleet-client.ts,
 * CLIENTS processes sharing the agents, since one process may hold only so many open
 * files). They run through a warm-up, in which they open their polls spread over the
 * poll interval and start heartbeating, and then the RUNS windows back to back on the
 * same running fleet; a call counts in the window in which it was answered. Alongside:
 * hub CPU per answered call, RSS and open files at the end of each window, the clients'
 * CPU, and how long the hub's JS thread waited for a CPU.
 *
 * Setup: the compiled hub on 127.0.0.1 (SQLite by default; `--store postgres` runs it on
 * a throwaway PostgreSQL cluster), N enrollments and registrations through the API, one
 * heartbeat each. The hub needs N + a few hundred open files: this container allows
 * 20,000 per process, hence 19,000.
 *
 * Flags: --agents 19000, --seconds 60 (one window), --runs 3, --clients 4, --wait 25,
 * --store sqlite. Env BENCH_BINARY: the hub binary (default dist/borgctl, built when
 * stale); BENCH_STEADY_BINARY: after the registrations, the hub is restarted as this
 * one on the same data (a wrapper running it under `bun --cpu-prof`, say), so that
 * what it records is the steady state alone. Not a test: prints tables, and records
 * rows for bench/RESULTS.md.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { SpawnedProcess } from "../src/shared/process/spawn.ts";
import { hostBinary } from "../test/helpers/binary.ts";
import { type PostgresCluster, postgresBinDir, startPostgres } from "../test/helpers/postgres.ts";
import type { FleetClientConfig, FleetClientResult } from "./fleet-client.ts";
import {
  adminToken,
  cpuMs,
  registerAgents,
  rssKiB,
  runQueueWaitMs,
  startHub,
  startServer,
  stopAll,
  sumOver,
} from "./hub-fixture.ts";
import { ensurePortRange } from "./port-range.ts";
import { quantile, recordResult } from "./results.ts";
import { printTable } from "./stats.ts";

const { values: flags } = parseArgs({
  options: {
    agents: { type: "string", default: "19000" },
    seconds: { type: "string", default: "60" },
    runs: { type: "string", default: "3" },
    clients: { type: "string", default: "4" },
    wait: { type: "string", default: "25" },
    store: { type: "string", default: "sqlite" },
  },
});
const AGENTS = Number(flags.agents);
const SECONDS = Number(flags.seconds);
const RUNS = Number(flags.runs);
const CLIENTS = Number(flags.clients);
const WAIT_SECONDS = Number(flags.wait);
const STORE = flags.store;
if (STORE !== "sqlite" && STORE !== "postgres") throw new Error(`--store: unknown "${STORE}"`);
const HEARTBEAT_MS = 30_000;
const WARMUP_MS = WAIT_SECONDS * 1000 + 5_000;
const GOAL_MS = 50;

/** The baseline: holds a poll for its `wait`, answers anything else at once. */
const BARE_SERVER = `
const poll = JSON.stringify({ jobs: [] });
const heartbeat = JSON.stringify({ server_time: new Date().toISOString(), cancel_job_ids: [] });
const json = { headers: { "content-type": "application/json" } };
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 75,
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/heartbeat")) return new Response(heartbeat, json);
    const wait = Number(url.searchParams.get("wait") ?? 0) * 1000;
    return new Promise((resolve) => setTimeout(() => resolve(new Response(poll, json)), wait));
  },
});
console.log("baseline on http://127.0.0.1:" + server.port);
`;

interface Window extends FleetClientResult {
  hubCpuMs: number;
  clientCpuMs: number;
  hubWaitedMs: number;
  rssMiB: number;
  openFiles: number;
}

const cpuPercent = (ms: number) => ms / (SECONDS * 10);
/** Server CPU over the window per answered call (heartbeats + polls), ms. */
const cpuPerCall = (w: Window) => w.hubCpuMs / Math.max(1, w.heartbeat.length + w.pollLate.length);

async function openFiles(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/**
 * CLIENTS client processes on `base` for a warm-up and then `windows` windows back to
 * back; the server `pid` (and the clients' CPU) is read at each window's edges.
 */
async function runFleet(
  pid: number,
  base: string,
  agentsFile: string,
  windows: number,
): Promise<Window[]> {
  await drainTimeWait();
  const startAt = Date.now() + 1_000;
  const share = Math.ceil(AGENTS / CLIENTS);
  const clients = Array.from({ length: CLIENTS }, (_, i) => {
    const config: FleetClientConfig = {
      base,
      agentsFile,
      from: i * share,
      to: Math.min(AGENTS, (i + 1) * share),
      waitSeconds: WAIT_SECONDS,
      heartbeatMs: HEARTBEAT_MS,
      startAt,
      warmupMs: WARMUP_MS,
      measureMs: SECONDS * 1000,
      windows,
    };
    return Bun.spawn(
      [process.execPath, join(import.meta.dir, "fleet-client.ts"), JSON.stringify(config)],
      {
        stdout: "pipe",
        stderr: "inherit",
        // Bun's fetch holds 256 requests in flight by default and queues the rest.
        env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "65535" },
      },
    );
  });
  const clientPids = clients.map((c) => c.pid);
  const output = clients.map((c) => new Response(c.stdout).text());
  const measured: Omit<Window, keyof FleetClientResult>[] = [];
  for (let i = 0; i < windows; i++) {
    const windowStart = startAt + WARMUP_MS + i * SECONDS * 1000;
    await Bun.sleep(Math.max(0, windowStart - Date.now()));
    const cpuBefore = await cpuMs(pid);
    const clientCpuBefore = await sumOver(clientPids, cpuMs);
    const waitBefore = await runQueueWaitMs(pid);
    await Bun.sleep(Math.max(0, windowStart + SECONDS * 1000 - 1_000 - Date.now()));
    // Near the window's end, while every poll is open.
    const files = await openFiles(pid);
    const rss = (await rssKiB(pid)) / 1024;
    await Bun.sleep(Math.max(0, windowStart + SECONDS * 1000 - Date.now()));
    measured.push({
      hubCpuMs: (await cpuMs(pid)) - cpuBefore,
      clientCpuMs: (await sumOver(clientPids, cpuMs)) - clientCpuBefore,
      hubWaitedMs: (await runQueueWaitMs(pid)) - waitBefore,
      rssMiB: rss,
      openFiles: files,
    });
  }
  const parts: FleetClientResult[][] = [];
  for (const [i, client] of clients.entries()) {
    const text = await output[i];
    if ((await client.exited) !== 0) throw new Error("a fleet client failed");
    parts.push(JSON.parse(text ?? "[]") as FleetClientResult[]);
  }
  return measured.map((m, i) => {
    const of = parts.map((part) => part[i] as FleetClientResult);
    return {
      ...m,
      heartbeat: of.flatMap((p) => p.heartbeat),
      pollLate: of.flatMap((p) => p.pollLate),
      errors: of.reduce((n, p) => n + p.errors, 0),
      unexpected: of.reduce((n, p) => n + p.unexpected, 0),
      examples: of.flatMap((p) => p.examples),
      slow: of.flatMap((p) => p.slow),
    };
  });
}

/**
 * Waits (up to 90 s) until the connections closed before (the last run's, or another
 * program's) have left TIME_WAIT: they hold loopback's ephemeral ports (28,000 by
 * default), which a fleet of 19,000 connections would otherwise run out of.
 */
async function drainTimeWait(): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const sockstat = await readFile("/proc/net/sockstat", "utf8");
    const tw = Number(/\btw (\d+)/.exec(sockstat)?.[1] ?? 0);
    if (tw < 1_000) return;
    await Bun.sleep(2_000);
  }
}

const dir = await mkdtemp(join(tmpdir(), "borgctl-bench-fleet-"));
const running: SpawnedProcess[] = [];
let cluster: PostgresCluster | undefined;
const label = STORE === "sqlite" ? "SQLite" : "PostgreSQL";
// Each agent's poll holds a connection, and the heartbeats share a few more.
const restorePortRange = await ensurePortRange(AGENTS + 1_000);

try {
  const binary = process.env.BENCH_BINARY ?? (await hostBinary());
  const env: Record<string, string> = {};
  if (STORE === "postgres") {
    if (!(await postgresBinDir())) throw new Error("PostgreSQL is not installed");
    cluster = await startPostgres({ durable: true });
    env.BORGCTL_DATABASE_URL = await cluster.createDatabase("fleet");
  }
  let hub = await startHub(binary, join(dir, "hub"), env);
  running.push(hub.proc);
  console.log(`${label}: registering ${AGENTS} agents …`);
  const setup = await registerAgents(hub.base, await adminToken(hub.base), AGENTS, "fleet");
  const agentsFile = join(dir, "agents.jsonl");
  await writeFile(agentsFile, setup.agents.map((a) => JSON.stringify(a)).join("\n"));
  console.log(
    `registered in ${((setup.tokensMs + setup.registerMs + setup.onlineMs) / 1000).toFixed(0)} s`,
  );

  console.log(`${label}: a ${WARMUP_MS / 1000} s warm-up, then ${RUNS} windows of ${SECONDS} s …`);
  const steadyBinary = process.env.BENCH_STEADY_BINARY;
  if (steadyBinary) {
    // The same data, served by another process (e.g. a wrapper under --cpu-prof), so
    // what it records is the steady state alone, not the 19,000 registrations.
    await stopAll(running);
    hub = await startHub(steadyBinary, join(dir, "hub"), env);
    running.push(hub.proc);
  }
  const windows = await runFleet(hub.proc.pid, hub.base, agentsFile, RUNS);
  await stopAll(running);

  const bareServer = await startServer(
    [process.execPath, "-e", BARE_SERVER],
    {},
    /baseline on (http:\/\/\S+)/,
  );
  running.push(bareServer.proc);
  // The bare server ignores credentials: the same file serves.
  console.log("bare Bun.serve: one window …");
  const [bare] = await runFleet(bareServer.proc.pid, bareServer.base, agentsFile, 1);
  if (!bare) throw new Error("the baseline measured no window");
  await stopAll(running);

  const row = (name: string, w: Window) => [
    name,
    w.heartbeat.length,
    quantile(w.heartbeat, 0.5),
    quantile(w.heartbeat, 0.99),
    w.pollLate.length,
    quantile(w.pollLate, 0.5),
    quantile(w.pollLate, 0.99),
    Math.max(...w.pollLate, 0),
    w.errors + w.unexpected,
    `${cpuPercent(w.hubCpuMs).toFixed(0)} %`,
    cpuPerCall(w).toFixed(3),
    `${cpuPercent(w.clientCpuMs).toFixed(0)} %`,
    w.hubWaitedMs,
    w.rssMiB,
    w.openFiles,
  ];
  printTable(
    `${AGENTS} agents, each with a long poll open (wait=${WAIT_SECONDS}) and a heartbeat every ${HEARTBEAT_MS / 1000} s; ${SECONDS} s windows; ms (poll = answered after its wait by)`,
    [
      "server",
      "heartbeats",
      "hb p50",
      "hb p99",
      "polls",
      "poll p50",
      "poll p99",
      "poll max",
      "errors",
      "server CPU",
      "CPU ms per call",
      "clients' CPU",
      "server waited for CPU",
      "RSS MiB",
      "open files",
    ],
    [
      row("bare Bun.serve (baseline)", bare),
      ...windows.map((w, i) => row(`${label} hub, window ${i + 1}`, w)),
    ],
  );
  // When the slow calls came: one stall (a second with many) reads differently from a spread.
  const named: [string, Window][] = [
    ...windows.map((w, i): [string, Window] => [`${label} hub, window ${i + 1}`, w]),
    ["bare Bun.serve", bare],
  ];
  for (const [name, w] of named) {
    const perSecond = new Map<number, { n: number; worst: number }>();
    for (const [at, ms] of w.slow) {
      const second = Math.floor(at / 1000);
      const seen = perSecond.get(second) ?? { n: 0, worst: 0 };
      perSecond.set(second, { n: seen.n + 1, worst: Math.max(seen.worst, ms) });
    }
    const seconds = [...perSecond].sort((a, b) => a[0] - b[0]);
    console.log(
      `${name}: calls over 50 ms by second of the window (second: count, worst ms): ${seconds.map(([s, v]) => `${s}: ${v.n}, ${v.worst}`).join("; ") || "none"}`,
    );
  }
  const examples = [...windows.flatMap((w) => w.examples), ...bare.examples];
  if (examples.length > 0) console.log(`\nerrors seen: ${examples.slice(0, 10).join("; ")}`);

  const setupText = `${AGENTS} agents, poll wait=${WAIT_SECONDS} held + hb ${HEARTBEAT_MS / 1000} s, ${RUNS} × ${SECONDS} s`;
  const worst = (pick: (w: Window) => number[]) =>
    Math.max(...windows.map((w) => quantile(pick(w), 0.99)));
  const failures = windows.reduce((n, w) => n + w.errors + w.unexpected, 0);
  for (const [kind, pick] of [
    ["heartbeat", (w: Window) => w.heartbeat],
    ["long poll answered after its wait", (w: Window) => w.pollLate],
  ] as const) {
    const value = worst(pick);
    recordResult({
      measure: `open long polls: ${kind}, ${label}, 1 hub`,
      setup: setupText,
      value: `p99 ${windows.map((w) => quantile(pick(w), 0.99).toFixed(1)).join(" / ")} ms in the ${RUNS} windows (${failures} errors)`,
      baseline: `bare Bun.serve: p99 ${quantile(pick(bare), 0.99).toFixed(1)} ms`,
      ratio: `worst p99 ${value.toFixed(1)} ms`,
      goal: `p99 < ${GOAL_MS} ms in every window`,
      met: value < GOAL_MS && failures === 0,
    });
  }
  const worstCpu = Math.max(...windows.map(cpuPerCall));
  recordResult({
    measure: `open long polls: hub CPU per call, ${label}`,
    setup: setupText,
    value: `${windows.map((w) => cpuPerCall(w).toFixed(3)).join(" / ")} ms in the ${RUNS} windows`,
    baseline: `bare Bun.serve: ${cpuPerCall(bare).toFixed(3)} ms`,
    ratio: `${(worstCpu / cpuPerCall(bare)).toFixed(2)}× (worst window)`,
    goal: "≤ 2× bare",
    met: worstCpu <= 2 * cpuPerCall(bare),
  });
  const last = windows.at(-1);
  if (last) {
    recordResult({
      measure: `open long polls: hub memory and files, ${label}`,
      setup: setupText,
      value: `RSS ${last.rssMiB.toFixed(0)} MiB, ${last.openFiles} open files, CPU ${cpuPercent(last.hubCpuMs).toFixed(0)} % of one core`,
      baseline: `bare Bun.serve: RSS ${bare.rssMiB.toFixed(0)} MiB, CPU ${cpuPercent(bare.hubCpuMs).toFixed(0)} %`,
      ratio: "",
      goal: "",
    });
  }
} finally {
  await stopAll(running);
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
  await restorePortRange();
}
