/**
 * Two hub replicas on one PostgreSQL database, with the compiled binary as hub and agent
 * processes on 127.0.0.1, the real borg on a local repository and a throwaway cluster
 * (test/helpers/postgres.ts). Both replicas start at the same moment on an empty database
 * (migrations and the first admin happen once); the agent is registered with and polls
 * replica A; every job is queued through replica B's API and B's job view (server-sent
 * events) follows the backup A's agent uploads. Then A is SIGKILLed mid-backup and the
 * agent is pointed at B: the backup completes and every log line is stored once.
 *
 * Pointing the agent at B: its hub URL is `server_url` in its config, which
 * BORGCTL_SERVER_URL overrides, and it is read at start, so the agent is restarted.
 * Gracefully (SIGTERM): a running job gets a 30 s grace period and its result waits in
 * the outbox. A SIGKILLed agent would instead report the job as interrupted on restart
 * (faults.test.ts covers that), which is not what this test is about. Behind a load
 * balancer the agent would need no restart at all.
 *
 * Making the backup slow and its log lines countable is done as in faults.test.ts: 24 MiB
 * of random data at zstd,19, each file followed by a path whose name is too long for the
 * filesystem, which borg warns about
 * once, in order (so the job ends completed_with_warnings, on purpose). Dispatch latency
 * across replicas (queued on B → claimed on A, from the job's own timestamps) is printed,
 * never asserted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Job, Machine } from "../../src/shared/protocol/api.ts";
import { createFleet, type Fleet, waitFor } from "../helpers/fleet.ts";
import { type PostgresCluster, startPostgres } from "../helpers/postgres.ts";

const PASSPHRASE = "replicas e2e passphrase";
const FILES = 24;
const pad = (i: number) => String(i).padStart(2, "0");
/**
 * Names too long for the filesystem (a component over 255 bytes): borg warns about each
 * ("File name too long"). A path that merely does not exist would fail the backup before
 * borg runs (src/agent/source-paths.ts).
 */
const MISSING = Array.from({ length: FILES }, (_, i) => `missing-${pad(i)}-${"x".repeat(250)}`);

let cluster: PostgresCluster | undefined;
let fleet: Fleet | undefined;
beforeAll(async () => {
  cluster = await startPostgres();
}, 60_000);
afterAll(async () => {
  // Hubs first: a replica still connected would hold up PostgreSQL's fast shutdown.
  await fleet?.cleanup();
  await cluster?.stop();
});

interface SeenEvent {
  event: string;
  data: Record<string, unknown>;
  at: number;
}

/** Reads a job's server-sent events from `url` into `seen` until the stream ends. */
async function followEvents(url: string, token: string, seen: SeenEvent[], signal: AbortSignal) {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    signal,
  });
  if (response.status !== 200 || !response.body) throw new Error(`events: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length > 0) seen.push({ event, data: JSON.parse(data.join("\n")), at: Date.now() });
    }
  }
}

const summary = (job: Job) => ({ status: job.status, error: job.error_message });

/** Queued on B (created_at) → claimed by the agent through A (claimed_at), in ms. */
const dispatchMs = (job: Job) =>
  job.claimed_at === null ? Number.NaN : Date.parse(job.claimed_at) - Date.parse(job.created_at);

describe("two hub replicas on PostgreSQL, compiled binary", () => {
  test("a backup queued on B runs through A; A SIGKILLed mid-backup, the agent moves to B, nothing is lost", async () => {
    if (!cluster) throw new Error("no PostgreSQL cluster");
    const databaseUrl = await cluster.createDatabase("replicas_e2e");
    fleet = await createFleet("replicas-pg", { databaseUrl, replicas: 2 });
    const f = fleet;
    const b = f.replicas[0];
    if (!b) throw new Error("no replica B");

    // Started together on an empty database: one applied the migrations, one admin exists.
    const migrated = [f.hub?.lines ?? [], b.hub?.lines ?? []].map((lines) =>
      lines.some((l) => l.includes("database migrated")),
    );
    expect(migrated.filter(Boolean)).toHaveLength(1);
    const users = await f.apiAt(b.url, "GET", "/api/users");
    expect((users.body as { username: string }[]).map((u) => u.username)).toEqual(["admin"]);

    const agent = await f.addAgent("replica-agent"); // registered with A: polls A
    agent.start();
    await waitFor(
      "the agent online (seen through B)",
      async () => {
        const machines = (await f.apiAt(b.url, "GET", "/api/managed-machines")).body as Machine[];
        return machines.find((m) => m.id === agent.machineId)?.status === "online"
          ? true
          : undefined;
      },
      30_000,
    );

    const sources = join(f.dir, "sources");
    await mkdir(sources, { recursive: true });
    const interleaved: string[] = [];
    for (let i = 0; i < FILES; i++) {
      await writeFile(join(sources, `file-${pad(i)}.bin`), randomBytes(1024 * 1024));
      interleaved.push(join(sources, `file-${pad(i)}.bin`), join(sources, MISSING[i] as string));
    }
    const repoPath = join(f.dir, "repos", "replicated");
    const created = await f.apiAt(b.url, "POST", "/api/repositories", {
      agent_machine_id: agent.machineId,
      name: "replicated",
      location: repoPath,
      passphrase: PASSPHRASE,
      source_paths: interleaved,
      compression: "zstd,19",
    });
    expect(created.status).toBe(201);
    const repo = (created.body as { id: number }).id;
    const queueOnB = async (action: string) => {
      const queued = await f.apiAt(b.url, "POST", `/api/repositories/${repo}/${action}`, {});
      expect(queued.status).toBe(202);
      return (queued.body as { job_id: number }).job_id;
    };

    // Each job queued on B while the agent's long poll is held by A. The pause lets the
    // agent finish uploading the previous job and get back into its poll.
    const dispatch: number[] = [];
    for (const action of ["init", "list", "list", "list"]) {
      await Bun.sleep(700);
      const done = await f.waitForJob(await queueOnB(action), 60_000, undefined, b.url);
      expect({ action, ...summary(done) }).toEqual({ action, status: "completed", error: null });
      dispatch.push(dispatchMs(done));
    }

    await Bun.sleep(700);
    const jobId = await queueOnB("backup");
    const token = f.admin;
    const seen: SeenEvent[] = [];
    const stopEvents = new AbortController();
    const following = followEvents(
      `${b.url}/api/jobs/${jobId}/events`,
      token,
      seen,
      stopEvents.signal,
    ).catch((error: Error) => (stopEvents.signal.aborted ? undefined : error));

    // B's live view has relayed A's progress (LISTEN/NOTIFY) while borg is still at work.
    await waitFor(
      "B's job view to show progress uploaded to A",
      () =>
        seen.some((e) => e.event === "progress" && Number(e.data.original_size ?? 0) > 0)
          ? true
          : undefined,
      60_000,
      50,
    );
    await waitFor(
      "the first log lines, read through B",
      async () => ((await f.jobLogs(jobId, b.url)).length > 0 ? true : undefined),
      30_000,
      100,
    );
    const deliveredBefore = (await f.jobLogs(jobId, b.url)).length;
    expect(agent.borgChildren().some((p) => p.cmdline.includes(" create "))).toBe(true);
    const relayedBefore = {
      progress: seen.filter((e) => e.event === "progress").length,
      log: seen.filter((e) => e.event === "log").length,
    };
    dispatch.push(dispatchMs((await f.apiAt(b.url, "GET", `/api/jobs/${jobId}`)).body as Job));

    const killedAt = Date.now();
    const killed = await f.stopHub("SIGKILL");
    expect(killed.signal).toBe("SIGKILL");
    // Point the agent at B: a graceful restart (see the header) with B's URL.
    const stopped = await agent.kill("SIGTERM");
    const agentStopMs = Date.now() - killedAt;
    expect(stopped.exitCode).toBe(0);
    agent.start({ BORGCTL_SERVER_URL: b.url });

    const done = await f.waitForJob(jobId, 90_000, undefined, b.url);
    // completed_with_warnings: borg's warnings for the missing paths (see the header).
    expect(summary(done)).toEqual({ status: "completed_with_warnings", error: null });
    expect(done.return_code).toBe(1);
    expect(done.result?.stats?.nfiles).toBe(FILES);

    // Every line once: sequences 0..N-1, each missing path's warning exactly once.
    const logs = await f.jobLogs(jobId, b.url);
    expect(logs.map((l) => l.sequence)).toEqual(logs.map((_, i) => i));
    expect(
      MISSING.map((name) => logs.filter((l) => l.message.includes(`${name}:`)).length),
    ).toEqual(MISSING.map(() => 1));
    const listed = await f.borg(["list", "--short", repoPath], PASSPHRASE);
    expect(listed.stdout.split("\n").filter(Boolean)).toEqual([
      done.result?.archive_name as string,
    ]);

    // B's job view saw the end too (what the agent delivered to B after the move).
    await waitFor(
      "the job view's end event",
      () => (seen.some((e) => e.event === "end") ? true : undefined),
      10_000,
      50,
    );
    stopEvents.abort();
    const streamError = await following;
    expect(streamError).toBeUndefined();
    expect(relayedBefore.progress).toBeGreaterThan(0);
    expect(seen.filter((e) => e.event === "log").length).toBeGreaterThan(0);

    const sorted = dispatch.filter(Number.isFinite).sort((x, y) => x - y);
    console.log(
      `dispatch latency across replicas (queued on B → claimed through A), ${sorted.length} jobs: ${sorted.join(", ")} ms (median ${sorted[Math.floor(sorted.length / 2)]} ms)`,
    );
    console.log(
      `before A was killed: ${deliveredBefore} of ${logs.length} log lines stored; B's job view had relayed ${relayedBefore.progress} progress and ${relayedBefore.log} log events from A; the agent stopped ${agentStopMs} ms after the kill; B's view saw ${seen.filter((e) => e.event === "log").length} log events in all`,
    );
  }, 150_000);
});
