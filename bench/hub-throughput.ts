/**
 * The hub's hot path against a bare Bun.serve in the same run:
 *  1. empty-poll throughput: C connections sending authenticated `poll?wait=0` of
 *     AGENTS agents (round robin) back to back for S seconds (goal ≥ 0.5× bare req/s);
 *  2. heartbeat throughput, the same way (reported);
 *  3. CPU per request of the server during 1 (goal ≤ 2× bare, the 0.16 ms vs 0.08);
 *  4. bytes per open long poll: OPEN agents each hold `poll?wait=30`; the RSS grown from
 *     a quarter of them held to all of them, per poll (goal ≤ 8 KB), against bare
 *     holding the same requests for 30 s.
 * The bare server answers the same paths with bodies of the same size. Both run on this
 * machine with the client; other load shows up in both, which is why only ratios are goals.
 *
 * Flags: --store sqlite,postgres (default sqlite; postgres skipped when not installed),
 * --seconds 5, --connections 64, --agents 200, --open 2000. Env BENCH_BINARY: the hub
 * binary to measure (default: dist/borgctl, built when stale). Not a test: prints tables.
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
  HEARTBEAT_PATH as HEARTBEAT,
  inPool,
  registerAgents as registerThrough,
  rssKiB,
  startHub,
  startServer,
} from "./hub-fixture.ts";
import { quantile, recordResult } from "./results.ts";
import { printTable } from "./stats.ts";

const { values: flags } = parseArgs({
  options: {
    store: { type: "string", default: "sqlite" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "64" },
    agents: { type: "string", default: "200" },
    open: { type: "string", default: "2000" },
  },
});
const STORES = (flags.store ?? "sqlite").split(",").map((s) => s.trim());
const SECONDS = Number(flags.seconds);
const CONNECTIONS = Number(flags.connections);
const AGENTS = Number(flags.agents);
const OPEN = Number(flags.open);
// Bun's fetch holds at most BUN_CONFIG_MAX_HTTP_REQUESTS (256) requests in flight and
// queues the rest in the client: run again with room for every open poll.
const inFlight = OPEN + CONNECTIONS + 64;
if (Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ?? 256) < inFlight) {
  const again = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    stdio: ["inherit", "inherit", "inherit"],
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: String(Math.min(65_535, inFlight)) },
  });
  process.exit(await again.exited);
}
const SETUP_CONCURRENCY = 32;
const EMPTY_POLL = "/api/agents/jobs/poll?limit=1&wait=0";
const LONG_POLL = "/api/agents/jobs/poll?limit=1&wait=30";

/** `count` agents enrolled, registered and brought online (one heartbeat each). */
async function registerAgents(base: string, count: number, prefix: string): Promise<Agent[]> {
  const admin = await adminToken(base);
  return (await registerThrough(base, admin, count, prefix, SETUP_CONCURRENCY)).agents;
}

interface Throughput {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Server CPU per answered request, ms. */
  cpuPerRequestMs: number;
}

/** CONNECTIONS loops sending `kind` calls back to back for SECONDS. */
async function hammer(
  pid: number,
  base: string,
  agents: Agent[],
  kind: "poll" | "heartbeat",
): Promise<Throughput> {
  const samples: number[] = [];
  let errors = 0;
  let turn = 0;
  // A short warm-up so JIT and connection set-up are not measured.
  const run = async (ms: number, record: boolean) => {
    const until = performance.now() + ms;
    const loop = async () => {
      while (performance.now() < until) {
        const agent = agents[turn++ % agents.length] as Agent;
        const started = performance.now();
        try {
          const response =
            kind === "poll"
              ? await fetch(`${base}${EMPTY_POLL}`, { headers: agent.headers })
              : await fetch(`${base}${HEARTBEAT}`, {
                  method: "POST",
                  headers: agent.headers,
                  body: agent.heartbeatBody,
                });
          await response.arrayBuffer();
          if (!record) continue;
          if (response.ok) samples.push(performance.now() - started);
          else errors++;
        } catch {
          if (record) errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  };
  await run(1000, false);
  const cpuBefore = await cpuMs(pid);
  const started = performance.now();
  await run(SECONDS * 1000, true);
  const seconds = (performance.now() - started) / 1000;
  const cpu = (await cpuMs(pid)) - cpuBefore;
  return {
    requests: samples.length,
    errors,
    perSecond: samples.length / seconds,
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    cpuPerRequestMs: samples.length === 0 ? 0 : cpu / samples.length,
  };
}

/**
 * OPEN long polls held at once: RSS grown per poll, in bytes, and how many failed. The
 * slope between a quarter of them held (pools and first allocations warmed) and all of
 * them, so that start-up allocations and one GC do not swamp what a poll holds. RSS
 * includes garbage not yet collected: noisy (±3 KB between runs here), take the median
 * of runs.
 */
async function openPolls(pid: number, base: string, agents: Agent[]) {
  const controller = new AbortController();
  let failed = 0;
  const hold = (from: number, to: number) =>
    agents.slice(from, to).map((agent) =>
      fetch(`${base}${LONG_POLL}`, { headers: agent.headers, signal: controller.signal })
        .then((r) => r.arrayBuffer())
        .catch(() => {
          if (!controller.signal.aborted) failed++;
        }),
    );
  // Every agent polls once first (wait=0), as a running fleet has: its credential is
  // verified and its idle state known, and that garbage is made before the measurement.
  await inPool(OPEN, CONNECTIONS, async (i) => {
    const agent = agents[i] as Agent;
    await (await fetch(`${base}${EMPTY_POLL}`, { headers: agent.headers })).arrayBuffer();
  });
  await Bun.sleep(2000);
  const warm = Math.floor(OPEN / 4);
  const held = hold(0, warm);
  await Bun.sleep(2000);
  const before = await rssKiB(pid);
  held.push(...hold(warm, OPEN));
  await Bun.sleep(3000); // every poll reached the server and parked
  const after = await rssKiB(pid);
  controller.abort();
  await Promise.all(held);
  return { bytesPerPoll: ((after - before) * 1024) / (OPEN - warm), failed };
}

/** The baseline: the same paths and body sizes, no work; long polls held for 30 s. */
const BARE_SERVER = `
const poll = JSON.stringify({ jobs: [] });
const heartbeat = JSON.stringify({ server_time: new Date().toISOString(), cancel_job_ids: [] });
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 75,
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/heartbeat")) return new Response(heartbeat, { headers: { "content-type": "application/json" } });
    if (url.searchParams.get("wait") === "30") {
      return new Promise((resolve) => setTimeout(() => resolve(new Response(poll, { headers: { "content-type": "application/json" } })), 30000));
    }
    return new Response(poll, { headers: { "content-type": "application/json" } });
  },
});
console.log("baseline on http://127.0.0.1:" + server.port);
`;

interface Measured {
  label: string;
  poll: Throughput;
  heartbeat: Throughput;
  open: { bytesPerPoll: number; failed: number };
}

const dir = await mkdtemp(join(tmpdir(), "borgctl-bench-throughput-"));
const running: SpawnedProcess[] = [];
let cluster: PostgresCluster | undefined;
const stop = async (proc: SpawnedProcess) => {
  running.splice(running.indexOf(proc), 1);
  proc.cancel();
  await proc.done;
};
try {
  // BENCH_BINARY: another build to compare (e.g. the commit before a change).
  const binary = process.env.BENCH_BINARY ?? (await hostBinary());
  const results: Measured[] = [];
  const agentCount = Math.max(AGENTS, OPEN);
  let someAgents: Agent[] = [];
  const stores = STORES.filter((s) => s === "sqlite" || s === "postgres");
  for (const store of stores) {
    // info is the production default: the access log line per request is measured.
    const env: Record<string, string> = {
      BORGCTL_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    };
    if (store === "postgres") {
      if (!(await postgresBinDir())) {
        console.log("PostgreSQL is not installed: its rows are skipped");
        continue;
      }
      cluster ??= await startPostgres({ durable: true });
      env.BORGCTL_DATABASE_URL = await cluster.createDatabase("throughput");
    }
    const hub = await startHub(binary, join(dir, store), env);
    running.push(hub.proc);
    console.log(`${store}: registering ${agentCount} agents …`);
    const agents = await registerAgents(hub.base, agentCount, `tp-${store}`);
    someAgents = agents;
    const hot = agents.slice(0, AGENTS);
    const poll = await hammer(hub.proc.pid, hub.base, hot, "poll");
    const heartbeat = await hammer(hub.proc.pid, hub.base, hot, "heartbeat");
    await stop(hub.proc);
    // Memory per poll in a fresh process on the same database: the load above grew a heap
    // that parked polls would only reuse.
    const fresh = await startHub(binary, join(dir, store), env);
    running.push(fresh.proc);
    await Bun.sleep(1000);
    const open = await openPolls(fresh.proc.pid, fresh.base, agents);
    results.push({ label: store === "sqlite" ? "SQLite" : "PostgreSQL", poll, heartbeat, open });
    await stop(fresh.proc);
  }
  const bare = await startServer(
    [process.execPath, "-e", BARE_SERVER],
    {},
    /baseline on (http:\/\/\S+)/,
  );
  running.push(bare.proc);
  const bareAgents = someAgents.length > 0 ? someAgents : [{ headers: {}, heartbeatBody: "{}" }];
  const barePoll = await hammer(bare.proc.pid, bare.base, bareAgents.slice(0, AGENTS), "poll");
  const bareHeartbeat = await hammer(
    bare.proc.pid,
    bare.base,
    bareAgents.slice(0, AGENTS),
    "heartbeat",
  );
  await stop(bare.proc);
  const freshBare = await startServer(
    [process.execPath, "-e", BARE_SERVER],
    {},
    /baseline on (http:\/\/\S+)/,
  );
  running.push(freshBare.proc);
  await Bun.sleep(1000);
  const bareOpen = await openPolls(
    freshBare.proc.pid,
    freshBare.base,
    Array.from({ length: OPEN }, () => bareAgents[0] as Agent),
  );
  await stop(freshBare.proc);

  const row = (label: string, t: Throughput, of?: Throughput) => [
    label,
    t.requests,
    Math.round(t.perSecond),
    t.p50,
    t.p99,
    t.cpuPerRequestMs.toFixed(3),
    of ? (t.perSecond / of.perSecond).toFixed(2) : "1.00",
    t.errors,
  ];
  const header = [
    "target",
    "requests",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU ms/req",
    "× bare",
    "errors",
  ];
  const setup = `${CONNECTIONS} connections, ${AGENTS} agents, ${SECONDS} s`;
  printTable(`empty poll (wait=0), ${setup}`, header, [
    row("bare Bun.serve (baseline)", barePoll),
    ...results.map((r) => row(r.label, r.poll, barePoll)),
  ]);
  printTable(`heartbeat, ${setup}`, header, [
    row("bare Bun.serve (baseline)", bareHeartbeat),
    ...results.map((r) => row(r.label, r.heartbeat, bareHeartbeat)),
  ]);
  printTable(
    `${OPEN} open long polls (wait=30): RSS grown per open poll`,
    ["target", "bytes per poll", "failed"],
    [
      ["bare Bun.serve (baseline)", Math.round(bareOpen.bytesPerPoll), bareOpen.failed],
      ...results.map((r) => [r.label, Math.round(r.open.bytesPerPoll), r.open.failed]),
    ],
  );

  const fmt = (t: Throughput) =>
    `${Math.round(t.perSecond)} req/s, p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms`;
  for (const r of results) {
    const pollRatio = r.poll.perSecond / barePoll.perSecond;
    recordResult({
      measure: `empty-poll throughput, ${r.label}`,
      setup,
      value: fmt(r.poll),
      baseline: fmt(barePoll),
      ratio: `${pollRatio.toFixed(2)}×`,
      goal: "≥ 0.5× bare",
      met: pollRatio >= 0.5 && r.poll.errors === 0,
    });
    const cpuRatio = r.poll.cpuPerRequestMs / Math.max(barePoll.cpuPerRequestMs, 1e-6);
    recordResult({
      measure: `CPU per empty poll, ${r.label}`,
      setup,
      value: `${r.poll.cpuPerRequestMs.toFixed(3)} ms`,
      baseline: `${barePoll.cpuPerRequestMs.toFixed(3)} ms`,
      ratio: `${cpuRatio.toFixed(2)}×`,
      goal: "≤ 2× bare (0.16 ms vs 0.08)",
      met: cpuRatio <= 2,
    });
    recordResult({
      measure: `heartbeat throughput, ${r.label}`,
      setup,
      value: fmt(r.heartbeat),
      baseline: fmt(bareHeartbeat),
      ratio: `${(r.heartbeat.perSecond / bareHeartbeat.perSecond).toFixed(2)}×`,
      goal: "",
    });
    recordResult({
      measure: `bytes per open long poll, ${r.label}`,
      setup: `${OPEN} polls held`,
      value: `${(r.open.bytesPerPoll / 1024).toFixed(1)} KB (${r.open.failed} failed)`,
      baseline: `${(bareOpen.bytesPerPoll / 1024).toFixed(1)} KB`,
      ratio: `${(r.open.bytesPerPoll / 1024).toFixed(1)} KB`,
      goal: "≤ 8 KB",
      met: r.open.bytesPerPoll <= 8 * 1024 && r.open.failed === 0,
    });
  }
} finally {
  for (const proc of [...running]) await stop(proc);
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
}
