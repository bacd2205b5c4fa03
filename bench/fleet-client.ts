/**
 * One share of the fleet for bench/hub-fleet.ts, in a process of its own: a process may
 * hold only so many open files (20,000 in the container this was written in), and the
 * hub at 19,000 open polls is near that by itself, so the client side is spread over
 * several of these.
 *
 * Lifecycle: started by hub-fleet.ts with one JSON argument (FleetClientConfig); reads
 * its agents' credentials from `agentsFile`, lines `from` to `to`; runs every agent as
 * the real agent's loop does (a long poll, `wait` s, sent again the moment it is
 * answered; a heartbeat every `heartbeatMs`), each agent starting at a random point of
 * both intervals so the fleet is spread as a running one is. After `warmupMs` from
 * `startAt` (epoch ms, shared by every client) come `windows` measurement windows of
 * `measureMs` each, back to back, on the same running fleet (so no window starts with
 * thousands of fresh connections). At the end it stops sending, aborts the polls still
 * open, prints one JSON line (FleetClientResult[], one per window) on stdout and exits 0.
 * A call is counted in the window in which it was answered.
 */
import { readFile } from "node:fs/promises";
import type { BenchAgent } from "./hub-fixture.ts";

export interface FleetClientConfig {
  base: string;
  agentsFile: string;
  from: number;
  to: number;
  waitSeconds: number;
  heartbeatMs: number;
  startAt: number;
  warmupMs: number;
  measureMs: number;
  windows: number;
}

export interface FleetClientResult {
  /** Heartbeat round trips, ms. */
  heartbeat: number[];
  /** How long after its `wait` each empty long poll was answered, ms. */
  pollLate: number[];
  errors: number;
  /** Polls answered well before their wait ended, or with a job: none are expected. */
  unexpected: number;
  examples: string[];
  /** Calls over SLOW_MS: [when, ms after the window began; how slow, ms] (at most 500). */
  slow: [number, number][];
}

/** What counts as slow (the goal's bound): when such calls happen tells a stall from a spread. */
const SLOW_MS = 50;

const REQUEST_TIMEOUT_MS = 10_000;

const config = JSON.parse(process.argv[2] ?? "{}") as FleetClientConfig;
const agents = (await readFile(config.agentsFile, "utf8"))
  .split("\n")
  .slice(config.from, config.to)
  .map((line) => JSON.parse(line) as BenchAgent);
const windowStart = config.startAt + config.warmupMs;
const end = windowStart + config.windows * config.measureMs;
const results: FleetClientResult[] = Array.from({ length: config.windows }, () => ({
  heartbeat: [],
  pollLate: [],
  errors: 0,
  unexpected: 0,
  examples: [],
  slow: [],
}));
const noteIfSlow = (window: FleetClientResult, ms: number) => {
  if (ms <= SLOW_MS || window.slow.length >= 500) return;
  const windowBegan = windowStart + results.indexOf(window) * config.measureMs;
  window.slow.push([Date.now() - windowBegan, Math.round(ms)]);
};
/** The window the present moment is in; undefined during the warm-up and after the end. */
const current = (): FleetClientResult | undefined => {
  const now = Date.now();
  if (now < windowStart || now >= end) return undefined;
  return results[Math.floor((now - windowStart) / config.measureMs)];
};
const fail = (what: string) => {
  const window = current();
  if (!window) return;
  window.errors++;
  if (window.examples.length < 5) window.examples.push(what);
};
// No signal shared by every call: each fetch would add a listener to it and remove it
// again when answered, and with thousands of calls open that removal made the clients,
// not the server, the bottleneck (200 % CPU at 16,000 agents). The open polls are
// aborted one by one at the end instead.
let stopped = false;
const openPolls = new Set<AbortController>();
const pollUrl = `${config.base}/api/agents/jobs/poll?limit=1&wait=${config.waitSeconds}`;
const heartbeatUrl = `${config.base}/api/agents/heartbeat`;
const waitMs = config.waitSeconds * 1000;

async function pollLoop(agent: BenchAgent): Promise<void> {
  await Bun.sleep(Math.max(0, config.startAt - Date.now()) + Math.random() * waitMs);
  while (Date.now() < end) {
    const started = performance.now();
    const abort = new AbortController();
    openPolls.add(abort);
    try {
      const response = await fetch(pollUrl, { headers: agent.headers, signal: abort.signal });
      const body = (await response.json()) as { jobs?: unknown[] };
      const late = performance.now() - started - waitMs;
      const window = current();
      if (!response.ok) fail(`poll: HTTP ${response.status}`);
      else if (!window) continue;
      else if ((body.jobs?.length ?? 0) > 0 || late < -waitMs / 10) window.unexpected++;
      else {
        window.pollLate.push(late);
        noteIfSlow(window, late);
      }
    } catch (error) {
      if (stopped) return;
      fail(`poll: ${(error as Error).message}`);
      await Bun.sleep(1000);
    } finally {
      openPolls.delete(abort);
    }
  }
}

async function heartbeatLoop(agent: BenchAgent): Promise<void> {
  let next = config.startAt + Math.random() * config.heartbeatMs;
  while (next < end) {
    await Bun.sleep(Math.max(0, next - Date.now()));
    next += config.heartbeatMs;
    const started = performance.now();
    try {
      const response = await fetch(heartbeatUrl, {
        method: "POST",
        headers: agent.headers,
        body: agent.heartbeatBody,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      if (!response.ok) fail(`heartbeat: HTTP ${response.status}`);
      else {
        const window = current();
        const ms = performance.now() - started;
        window?.heartbeat.push(ms);
        if (window) noteIfSlow(window, ms);
      }
    } catch (error) {
      if (stopped) return;
      fail(`heartbeat: ${(error as Error).message}`);
    }
  }
}

const loops = agents.flatMap((agent) => [pollLoop(agent), heartbeatLoop(agent)]);
await Bun.sleep(Math.max(0, end - Date.now()));
// Polls still open at the end are the next window's: abort them, as an agent stopping would.
stopped = true;
for (const abort of openPolls) abort.abort();
await Promise.all(loops);
process.stdout.write(`${JSON.stringify(results)}\n`);
