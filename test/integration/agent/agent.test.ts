/**
 * The agent against an in-process hub on 127.0.0.1, running the real borg on local temp
 * repositories: enroll, back up, list, maintenance, cancel, hub outage, restart, revoke.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, existsSync, openSync, statSync, writeSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runProcess } from "../../../src/shared/process/spawn.ts";
import { Job, JobLogsResponse, Machine } from "../../../src/shared/protocol/api.ts";
import { enrollAgent, type TestAgentProcess, waitForJob } from "../../helpers/agent.ts";
import { createTestHub } from "../../helpers/hub.ts";

const PASSPHRASE = "agent-integration-passphrase";
const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;
let agent: TestAgentProcess;
let running: ReturnType<TestAgentProcess["start"]>;
let sources: string;

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  agent = await enrollAgent(hub, server.url, admin);
  sources = join(agent.dir, "sources");
  await mkdir(join(sources, "docs"), { recursive: true });
  for (let i = 0; i < 20; i++)
    await writeFile(join(sources, "docs", `file-${i}.txt`), `document ${i}\n`.repeat(500));
  running = agent.start();
});
afterAll(async () => {
  await running?.stop();
  server.stop();
  hub.close();
  await rm(agent.dir, { recursive: true, force: true });
});

const TERMINAL: readonly string[] = ["completed", "completed_with_warnings", "failed", "canceled"];

async function createRepository(name: string, extra: Record<string, unknown> = {}) {
  const machine = (await hub.request("GET", "/api/managed-machines", { token: admin }))
    .body as Machine[];
  const response = await hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name,
      agent_machine_id: machine[0]?.id,
      location: join(agent.dir, "repos", name),
      passphrase: PASSPHRASE,
      source_paths: [sources],
      ...extra,
    },
  });
  expect(response.status).toBe(201);
  return (response.body as { id: number }).id;
}

async function runJob(repositoryId: number, action: string, body: unknown = {}) {
  const queued = await hub.request("POST", `/api/repositories/${repositoryId}/${action}`, {
    token: admin,
    body,
  });
  expect(queued.status).toBe(202);
  return waitForJob(hub, admin, (queued.body as { job_id: number }).job_id);
}

describe("agent with a real hub and real borg", () => {
  test("registration stored a private config and an SSH key; the machine comes online", async () => {
    expect(statSync(agent.configPath).mode & 0o777).toBe(0o600);
    expect(statSync(agent.agent.paths.sshKey).mode & 0o777).toBe(0o600);
    for (let i = 0; i < 50; i++) {
      const machines = (await hub.request("GET", "/api/managed-machines", { token: admin }))
        .body as Machine[];
      if (machines[0]?.status === "online") break;
      await Bun.sleep(100);
    }
    const [machine] = Machine.array().parse(
      (await hub.request("GET", "/api/managed-machines", { token: admin })).body,
    );
    expect(machine?.status).toBe("online");
    expect(machine?.ssh_public_key).toMatch(/^ssh-ed25519 /);
    expect(machine?.borg_versions[0]?.version).toMatch(/^\d+\.\d+/);
  });

  test("init, back up, list archives: jobs complete with stats, progress and logs", async () => {
    const id = await createRepository("laptop");
    expect((await runJob(id, "init")).status).toBe("completed");
    const backup = Job.parse(await runJob(id, "backup"));
    expect(backup.status).toBe("completed");
    expect(backup.result?.archive_name).toMatch(/-/);
    expect(backup.result?.stats?.nfiles).toBe(20);
    expect(backup.progress.progress_percent).toBe(100);
    const archivesNow = async () =>
      (await hub.request("GET", `/api/repositories/${id}/archives`, { token: admin })).body as {
        archives: { id: string; name: string; start?: string }[];
        listed_at: string | null;
      };
    // The backup's own archive is on the repository page at once, without a list job:
    // init left a known, empty list and the backup's result added to it.
    const afterBackup = await archivesNow();
    expect(afterBackup.archives.map((a) => a.name)).toEqual([
      backup.result?.archive_name as string,
    ]);
    expect(afterBackup.listed_at).not.toBeNull();
    const list = await runJob(id, "list");
    expect(list.status).toBe("completed");
    const archives = await archivesNow();
    expect(archives.archives.map((a) => a.name)).toEqual([backup.result?.archive_name as string]);
    // borg's own list agrees with what the backup reported, down to the id and start.
    expect(afterBackup.archives[0]?.id).toBe(archives.archives[0]?.id as string);
    expect(afterBackup.archives[0]?.start).toBe(archives.archives[0]?.start as string);
    const repo = (await hub.request("GET", `/api/repositories/${id}`, { token: admin })).body as {
      last_backup_at: string | null;
    };
    expect(repo.last_backup_at).not.toBeNull();
    // The passphrase reached borg and nothing else.
    expect(agent.logLines.join("\n")).not.toContain(PASSPHRASE);
    const logs = JobLogsResponse.parse(
      (await hub.request("GET", `/api/jobs/${backup.id}/logs`, { token: admin })).body,
    );
    expect(JSON.stringify(logs)).not.toContain(PASSPHRASE);
  });

  test("a source path that does not exist fails the backup, naming it; no archive is written", async () => {
    const missing = join(agent.dir, "no-such-dir");
    const id = await createRepository("missing-source", { source_paths: [sources, missing] });
    expect((await runJob(id, "init")).status).toBe("completed");
    const backup = Job.parse(await runJob(id, "backup"));
    expect(backup.status).toBe("failed");
    expect(backup.error_message).toContain(JSON.stringify(missing));
    expect(backup.error_message).toContain("does not exist on this machine");
    expect(backup.error_message).not.toContain(JSON.stringify(sources));
    // borg never ran against the repository: the list is empty, the repository failing.
    expect((await runJob(id, "list")).status).toBe("completed");
    const archives = (
      await hub.request("GET", `/api/repositories/${id}/archives`, { token: admin })
    ).body as { archives: unknown[] };
    expect(archives.archives).toEqual([]);
    const repo = (await hub.request("GET", `/api/repositories/${id}`, { token: admin })).body as {
      freshness: { status: string; failures_since_success: number };
    };
    expect(repo.freshness).toMatchObject({ status: "failing", failures_since_success: 1 });
  });

  test("a missing optional source is left out with a warning naming it; a present one is backed up", async () => {
    const extra = join(agent.dir, "extra");
    await mkdir(extra, { recursive: true });
    await writeFile(join(extra, "note.txt"), "optional but present\n");
    const absent = join(agent.dir, "unplugged-disk");
    const id = await createRepository("optional-sources", {
      optional_source_paths: [extra, absent],
    });
    expect((await runJob(id, "init")).status).toBe("completed");
    const backup = Job.parse(await runJob(id, "backup"));
    expect(backup.status).toBe("completed_with_warnings");
    // 20 files of the required source and the one of the optional source that is there.
    expect(backup.result?.stats?.nfiles).toBe(21);
    expect(backup.result?.warnings?.join("\n")).toContain(JSON.stringify(absent));
    const logs = JobLogsResponse.parse(
      (await hub.request("GET", `/api/jobs/${backup.id}/logs`, { token: admin })).body,
    );
    const messages = logs.logs.map((l) => l.message);
    expect(messages.some((m) => m.includes(`optional source path ${JSON.stringify(absent)}`))).toBe(
      true,
    );
    // borg never saw the absent path (it would have warned about it itself).
    expect(messages.some((m) => m.includes("No such file or directory"))).toBe(false);
    const repo = (await hub.request("GET", `/api/repositories/${id}`, { token: admin })).body as {
      optional_source_paths: string[];
      last_backup_at: string | null;
    };
    expect(repo.optional_source_paths).toEqual([extra, absent]);
    expect(repo.last_backup_at).not.toBeNull();
  });

  test("prune, check and compact run to completion", async () => {
    const id = await createRepository("maintained");
    await runJob(id, "init");
    await runJob(id, "backup");
    await runJob(id, "backup");
    expect((await runJob(id, "prune", { keep_daily: 1 })).status).toBe("completed");
    expect((await runJob(id, "check", {})).status).toBe("completed");
    expect((await runJob(id, "compact")).status).toBe("completed");
    await runJob(id, "list");
    const archives = (
      await hub.request("GET", `/api/repositories/${id}/archives`, { token: admin })
    ).body as {
      archives: unknown[];
    };
    expect(archives.archives).toHaveLength(1);
  });

  test("a wrong passphrase fails the job with borg's message, without the passphrase", async () => {
    const id = await createRepository("wrong-pass");
    await runJob(id, "init");
    await hub.request("PATCH", `/api/repositories/${id}`, {
      token: admin,
      body: { passphrase: "not-the-right-one" },
    });
    const failed = await runJob(id, "backup");
    expect(failed.status).toBe("failed");
    expect(failed.error_message).toMatch(/passphrase/i);
    expect(failed.error_message).not.toContain("not-the-right-one");
  });

  test("canceling a backup while borg holds the repo lock: borg stops on SIGINT, the job ends canceled, no lock is left", async () => {
    // Borg is held mid-run by the test, not by being slow: inside `borg create`, with the
    // repository lock taken, borg 1.2 reads `location` in its security dir with a plain
    // blocking open() (source files it opens O_NONBLOCK, and reads a FIFO among them only
    // with --read-special, which backups do not pass). A FIFO there holds borg until the
    // test writes what the file held.
    const id = await createRepository("canceled");
    await runJob(id, "init");
    const repoDir = join(agent.dir, "repos", "canceled");
    const repoId = /^id = ([0-9a-f]+)$/m.exec(await readFile(join(repoDir, "config"), "utf8"))?.[1];
    expect(repoId).toBeDefined();
    const security = join(agent.agent.paths.borgBaseDir, ".config", "borg", "security");
    const location = join(security, repoId as string, "location");
    const known = await readFile(location, "utf8");
    await rm(location);
    expect((await runProcess({ argv: ["mkfifo", "-m", "0600", location] })).exitCode).toBe(0);
    const restore = async () => {
      // Later opens (borg reads the file twice per run) find a plain file again.
      await writeFile(`${location}.tmp`, known, { mode: 0o600 });
      await rename(`${location}.tmp`, location);
    };

    const queued = await hub.request("POST", `/api/repositories/${id}/backup`, { token: admin });
    expect(queued.status).toBe(202);
    const jobId = (queued.body as { job_id: number }).job_id;
    let writer: number | undefined;
    try {
      // A non-blocking open for writing fails with ENXIO until a reader has the FIFO open,
      // so success means borg is there; holding this end open keeps it waiting in read().
      while (writer === undefined) {
        try {
          writer = openSync(location, constants.O_WRONLY | constants.O_NONBLOCK);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENXIO") throw error;
          const job = Job.parse(
            (await hub.request("GET", `/api/jobs/${jobId}`, { token: admin })).body,
          );
          if (TERMINAL.includes(job.status)) {
            throw new Error(`borg never opened ${location}; the job ended ${job.status}`);
          }
          await Bun.sleep(50);
        }
      }
      expect(existsSync(join(repoDir, "lock.exclusive"))).toBe(true);
      await waitForJob(hub, admin, jobId, (job) => job.status === "running");
      const cancel = await hub.request("POST", `/api/jobs/${jobId}/cancel`, { token: admin });
      expect(cancel.status).toBe(202);
      // The cancel reaches the agent in the answer to its next upload: the first progress
      // report, or else the next heartbeat (up to 30 s), as a held borg reports nothing.
      // The agent logs this and then aborts the run in the same synchronous step, and the
      // abort sends SIGINT at once (shared/process/spawn.ts). Borg 1.2 takes a first SIGINT
      // as "checkpoint and stop when you can" and stays blocked, so it cannot finish the
      // backup before it has been asked to stop.
      const canceling = new RegExp(`canceling job job=${jobId}\\b`);
      while (!agent.logLines.some((line) => canceling.test(line))) await Bun.sleep(50);
      await restore();
      try {
        writeSync(writer, known);
      } catch (error) {
        // EPIPE: borg is gone already, so it did not wait for us; the checks below say how
        // it ended.
        if ((error as NodeJS.ErrnoException).code !== "EPIPE") throw error;
      }
    } finally {
      // Whatever happened above, borg must not stay blocked: later tests share this agent.
      if (statSync(location).isFIFO()) await restore();
      if (writer !== undefined) closeSync(writer);
    }

    const canceled = await waitForJob(hub, admin, jobId);
    expect(canceled.status).toBe("canceled");
    // Cooperative: borg stopped on SIGINT (exit 2, after a checkpoint), not on the SIGTERM
    // that follows a grace period (that would be 143).
    expect(canceled.return_code).toBe(2);
    expect(existsSync(join(repoDir, "lock.exclusive"))).toBe(false);
    expect(existsSync(join(repoDir, "lock.roster"))).toBe(false);
    // The repository still works.
    expect((await runJob(id, "check", {})).status).toBe("completed");
  });

  test("a hub outage during a backup loses no log line: the outbox delivers after", async () => {
    const id = await createRepository("outage");
    await runJob(id, "init");
    const queued = await hub.request("POST", `/api/repositories/${id}/backup`, { token: admin });
    const jobId = (queued.body as { job_id: number }).job_id;
    await waitForJob(
      hub,
      admin,
      jobId,
      (job) => job.status !== "queued" && job.status !== "claimed",
    );
    server.stop();
    // The backup finishes while the hub is away; its start/logs/result wait on disk.
    for (let i = 0; i < 100; i++) {
      const pending = await readdir(agent.agent.paths.outboxDir).catch(() => []);
      if (
        pending.some((name) => name.endsWith(".json")) &&
        !existsSync(agent.agent.paths.currentJobFile)
      )
        break;
      await Bun.sleep(100);
    }
    server = hub.serve(server.port);
    const done = await waitForJob(hub, admin, jobId);
    expect({ status: done.status, error: done.error_message }).toEqual({
      status: "completed",
      error: null,
    });
    const logs = JobLogsResponse.parse(
      (await hub.request("GET", `/api/jobs/${jobId}/logs`, { token: admin })).body,
    );
    expect(logs.logs.map((l) => l.sequence)).toEqual(logs.logs.map((_, i) => i));
  });

  test("a restarted agent keeps its identity and reports a job it was running as interrupted", async () => {
    await running.stop();
    const before = await readFile(agent.configPath, "utf8");
    // Pretend the agent died during job N: the restart reports it instead of waiting for the lease.
    const id = await createRepository("interrupted");
    const queued = await hub.request("POST", `/api/repositories/${id}/compact`, { token: admin });
    const jobId = (queued.body as { job_id: number }).job_id;
    await hub.request("POST", `/api/agents/jobs/${jobId}/claim`, {
      agentToken: agent.agent.config.agent_token,
      body: {},
    });
    await writeFile(agent.agent.paths.currentJobFile, JSON.stringify({ job_id: jobId }), {
      mode: 0o600,
    });
    await agent.restart();
    running = agent.start();
    const interrupted = await waitForJob(hub, admin, jobId);
    expect(interrupted.status).toBe("failed");
    expect(interrupted.error_message).toContain("agent stopped");
    expect(await readFile(agent.configPath, "utf8")).toBe(before);
    const machines = (await hub.request("GET", "/api/managed-machines", { token: admin }))
      .body as Machine[];
    expect(machines).toHaveLength(1);
  });

  test("revocation stops the agent with a clear message", async () => {
    const [machine] = (await hub.request("GET", "/api/managed-machines", { token: admin }))
      .body as Machine[];
    await hub.request("POST", `/api/managed-machines/${machine?.id}/revoke`, { token: admin });
    const outcome = await running.done;
    expect(outcome.stopped).toBe("revoked");
    expect(outcome.stopped === "revoked" ? outcome.message : "").toContain("revoked or disabled");
  });
});
