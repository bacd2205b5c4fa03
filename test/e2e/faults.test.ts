/**
 * Faults, with the compiled binary as hub and agent processes on 127.0.0.1, the real borg
 * on local repositories and real signals: the hub SIGKILLed mid-backup, the agent
 * SIGKILLed mid-backup, a hub outage during a backup, and a repository whose disk fills.
 * (The in-process versions of "hub outage" and "agent restart" are in
 * test/integration/agent/agent.test.ts; here the processes really die.)
 *
 * Making borg slow enough to interrupt: 72 MiB of random data at zstd,19 takes borg a few
 * seconds (24 MiB took it 1.6 s on a quiet 2-core VM, which its 1 s progress reports could
 * skip past). Making every log line countable: borg logs nothing per file on a clean run, so
 * the backups that check "every log line exactly once" also name one unreadable path (a
 * name too long for the filesystem) after each file; borg warns once per such path, in order, while it works through the
 * files. Those jobs therefore end `completed_with_warnings` (borg rc 1), on purpose.
 *
 * Not tested here: the hub's 5-minute "agent lost" lease. It is DEFAULT_SETTINGS.leaseMs
 * in src/server/deps.ts with no config key, env var or flag (and the sweep interval is a
 * fixed 15 s in src/server/start.ts), so a test would have to wait 5 minutes. These tests
 * instead check that each failure arrives through the agent, well before any lease.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess } from "../../src/shared/process/spawn.ts";
import type { Job } from "../../src/shared/protocol/api.ts";
import { createFleet, type Fleet, isAlive, waitFor } from "../helpers/fleet.ts";

const PASSPHRASE = "faults e2e passphrase";
const FILES = 24;
const pad = (i: number) => String(i).padStart(2, "0");
/**
 * Names too long for the filesystem (a component over 255 bytes): borg warns about each
 * ("File name too long"). A path that merely does not exist would fail the backup before
 * borg runs (src/agent/source-paths.ts).
 */
const MISSING = Array.from({ length: FILES }, (_, i) => `missing-${pad(i)}-${"x".repeat(250)}`);

/** 24 files of 3 MiB random data (incompressible: zstd,19 is slow on it, lz4 can't shrink it). */
async function randomSources(fleet: Fleet): Promise<{ dir: string; interleaved: string[] }> {
  const dir = join(fleet.dir, "sources");
  await mkdir(dir, { recursive: true });
  const interleaved: string[] = [];
  for (let i = 0; i < FILES; i++) {
    await writeFile(join(dir, `file-${pad(i)}.bin`), randomBytes(3 * 1024 * 1024));
    interleaved.push(join(dir, `file-${pad(i)}.bin`), join(dir, MISSING[i] as string));
  }
  return { dir, interleaved };
}

const summary = (job: Job) => ({ status: job.status, error: job.error_message });

/** Running on the hub, borg has read something, and the agent really has a borg at work. */
const midBackup = (job: Job) => job.status === "running" && (job.progress.original_size ?? 0) > 0;

/**
 * The log lines of a job are exactly sequences 0..N-1, and borg's warning for each missing
 * path is there exactly once.
 */
async function expectEveryLineOnce(fleet: Fleet, jobId: number) {
  const logs = await fleet.jobLogs(jobId);
  expect(logs.map((l) => l.sequence)).toEqual(logs.map((_, i) => i));
  const perMissingPath = MISSING.map(
    (name) => logs.filter((l) => l.message.includes(`${name}:`)).length,
  );
  expect(perMissingPath).toEqual(MISSING.map(() => 1));
  return logs;
}

async function archiveNames(fleet: Fleet, repoPath: string): Promise<string[]> {
  const listed = await fleet.borg(["list", "--short", repoPath], PASSPHRASE);
  expect({ exitCode: listed.exitCode, stderr: listed.stderrTail.join("\n") }).toEqual({
    exitCode: 0,
    stderr: "",
  });
  return listed.stdout.split("\n").filter(Boolean);
}

/** A tmpfs we can mount (as root), or why not. Probed once, so the disk-full test can skip. */
async function probeTmpfs(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "not root: mounting a tmpfs needs root";
  const dir = await mkdtemp(join(tmpdir(), "borgctl-tmpfs-probe-"));
  try {
    const mounted = await runProcess({
      argv: ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir],
      stderrTailLines: 5,
    });
    if (mounted.exitCode !== 0)
      return `mount -t tmpfs failed: ${mounted.stderrTail.join(" ") || `exit ${mounted.exitCode}`}`;
    await runProcess({ argv: ["umount", dir] });
    return undefined;
  } catch (error) {
    return `mount could not run: ${(error as Error).message}`;
  } finally {
    await rmdir(dir).catch(() => undefined);
  }
}
const tmpfsProblem = await probeTmpfs();
if (tmpfsProblem) console.warn(`faults.test.ts: skipping the disk-full test: ${tmpfsProblem}`);

/** Each test has its own fleet; whatever a failing test leaves is ended here too. */
const fleets: Fleet[] = [];
async function newFleet(name: string) {
  const fleet = await createFleet(`faults-${name}`);
  fleets.push(fleet);
  return fleet;
}
afterAll(async () => {
  await Promise.all(fleets.map((f) => f.cleanup()));
});

describe("faults, compiled hub and agent as processes", () => {
  test("hub SIGKILLed mid-backup and restarted: the job completes, every log line once, the archive exists", async () => {
    const fleet = await newFleet("hub-kill");
    try {
      const agent = await fleet.addAgent("hub-kill");
      agent.start();
      const sources = await randomSources(fleet);
      const repoPath = join(fleet.dir, "repos", "hub-kill");
      const repo = await fleet.createRepository(agent, {
        name: "hub-kill",
        location: repoPath,
        passphrase: PASSPHRASE,
        source_paths: sources.interleaved,
        compression: "zstd,19",
      });
      expect(summary(await fleet.waitForJob(await fleet.queue(repo, "init"), 60_000))).toEqual({
        status: "completed",
        error: null,
      });

      const jobId = await fleet.queue(repo, "backup");
      await fleet.waitForJob(jobId, 60_000, midBackup);
      await waitFor(
        "the first log lines on the hub",
        async () => ((await fleet.jobLogs(jobId)).length > 0 ? true : undefined),
        30_000,
      );
      const deliveredBefore = (await fleet.jobLogs(jobId)).length;
      // Precondition: borg is still at work, so the rest of the job happens around the kill.
      expect(agent.borgChildren().map((p) => p.cmdline.includes(" create "))).toContain(true);
      expect(deliveredBefore).toBeLessThan(FILES);

      const killed = await fleet.stopHub("SIGKILL");
      expect(killed.signal).toBe("SIGKILL");
      // The agent goes on; its uploads fail and wait in the outbox.
      await Bun.sleep(2_000);
      await fleet.startHub();

      const done = await fleet.waitForJob(jobId, 120_000);
      // completed_with_warnings: borg's warnings for the missing paths (see the header).
      expect(summary(done)).toEqual({ status: "completed_with_warnings", error: null });
      expect(done.return_code).toBe(1);
      expect(done.result?.stats?.nfiles).toBe(FILES);
      await expectEveryLineOnce(fleet, jobId);
      expect(await archiveNames(fleet, repoPath)).toEqual([done.result?.archive_name as string]);
    } finally {
      await fleet.cleanup();
    }
  }, 180_000);

  test("agent SIGKILLed mid-backup and restarted: the job is failed at once, and the next backup completes", async () => {
    const fleet = await newFleet("agent-kill");
    try {
      const agent = await fleet.addAgent("agent-kill");
      agent.start();
      const sources = await randomSources(fleet);
      const repoPath = join(fleet.dir, "repos", "agent-kill");
      const repo = await fleet.createRepository(agent, {
        name: "agent-kill",
        location: repoPath,
        passphrase: PASSPHRASE,
        source_paths: [sources.dir],
        compression: "zstd,19",
      });
      expect(summary(await fleet.waitForJob(await fleet.queue(repo, "init"), 60_000))).toEqual({
        status: "completed",
        error: null,
      });

      const jobId = await fleet.queue(repo, "backup");
      const creates = () => agent.borgChildren().filter((p) => p.cmdline.includes(" create "));
      // What this test needs is the agent's own borg at work when it dies.
      const seen = await fleet.waitForJob(
        jobId,
        60_000,
        (j) => midBackup(j) && creates().length > 0,
      );
      expect(seen.status).toBe("running");
      const borgs = creates();
      expect(borgs.length).toBeGreaterThan(0);
      const killed = await agent.kill("SIGKILL");
      expect(killed.signal).toBe("SIGKILL");

      // borg leads its own process group, so the SIGKILL does not reach it: it loses its
      // pipes and dies on the next write to stderr (it reports progress several times a
      // second). Observed: it is gone within a second or so, its lock released.
      const orphanGone = await waitFor(
        "the orphaned borg to exit",
        () => (borgs.every((b) => !isAlive(b.pid)) ? true : undefined),
        30_000,
      ).catch(() => false);
      const lockLeft = ["lock.roster", "lock.exclusive"].filter((f) =>
        existsSync(join(repoPath, f)),
      );
      console.info(
        `agent SIGKILL: orphaned borg ${orphanGone ? "exited" : "STILL RUNNING after 30 s"}; lock files left: ${lockLeft.join(", ") || "none"}`,
      );
      expect(orphanGone).toBe(true);

      // Same config: the restarted agent reports the interrupted job itself, long before
      // the hub's 5-minute lease would.
      agent.start();
      const failed = await fleet.waitForJob(jobId, 60_000);
      expect(failed.status).toBe("failed");
      expect(failed.error_message).toContain("agent stopped while this job was running");

      // No stale lock stands in the way (borg itself clears a dead local pid's lock).
      const next = await fleet.waitForJob(await fleet.queue(repo, "backup"), 120_000);
      expect(summary(next)).toEqual({ status: "completed", error: null });
      expect(next.result?.stats?.nfiles).toBe(FILES);
      // The interrupted backup never committed: the repository holds only the new archive.
      expect(await archiveNames(fleet, repoPath)).toEqual([next.result?.archive_name as string]);
      expect(existsSync(join(repoPath, "lock.roster"))).toBe(false);
    } finally {
      await fleet.cleanup();
    }
  }, 180_000);

  // The issue asks for a 2-minute hub outage; 20 s stands in for it to keep CI short. The
  // mechanism is the same either way: the backup goes on, its uploads wait in the outbox
  // and are retried with a backoff capped at 60 s, and the 5-minute lease is far off. So
  // once the hub is back, delivery waits for the sender's next retry: up to a minute.
  const OUTAGE_MS = 20_000;

  test("hub stopped for a while during a backup: nothing is lost once it is back", async () => {
    const fleet = await newFleet("outage");
    try {
      const agent = await fleet.addAgent("outage");
      agent.start();
      const sources = await randomSources(fleet);
      const repoPath = join(fleet.dir, "repos", "outage");
      const repo = await fleet.createRepository(agent, {
        name: "outage",
        location: repoPath,
        passphrase: PASSPHRASE,
        source_paths: sources.interleaved,
        compression: "zstd,19",
      });
      expect(summary(await fleet.waitForJob(await fleet.queue(repo, "init"), 60_000))).toEqual({
        status: "completed",
        error: null,
      });

      const jobId = await fleet.queue(repo, "backup");
      await fleet.waitForJob(jobId, 60_000, midBackup);
      expect(agent.borgChildren().map((p) => p.cmdline.includes(" create "))).toContain(true);
      const stopped = await fleet.stopHub("SIGTERM");
      expect(stopped.exitCode).toBe(0);
      await Bun.sleep(OUTAGE_MS);
      // Usually the backup has finished by now and its result waits in the outbox.
      const borgStillRunning = agent.borgChildren().length > 0;
      await fleet.startHub();

      const done = await fleet.waitForJob(jobId, 120_000);
      expect(summary(done)).toEqual({ status: "completed_with_warnings", error: null });
      expect(done.result?.stats?.nfiles).toBe(FILES);
      await expectEveryLineOnce(fleet, jobId);
      expect(await archiveNames(fleet, repoPath)).toEqual([done.result?.archive_name as string]);
      if (borgStillRunning) console.info("outage: borg was still running when the hub came back");
      // The agent is still the same process, alive and online again.
      expect(agent.proc && isAlive(agent.proc.pid)).toBe(true);
    } finally {
      await fleet.cleanup();
    }
  }, 180_000);

  test.skipIf(tmpfsProblem !== undefined)(
    "disk full on the repository: the job fails with borg's no-space error, and the repository stays usable",
    async () => {
      const fleet = await newFleet("disk-full");
      try {
        const full = join(fleet.dir, "full");
        await mkdir(full);
        const mounted = await runProcess({
          argv: ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", full],
          stderrTailLines: 5,
        });
        if (mounted.exitCode === 0) fleet.addMount(full);
        expect({ exitCode: mounted.exitCode, stderr: mounted.stderrTail.join("\n") }).toEqual({
          exitCode: 0,
          stderr: "",
        });

        const agent = await fleet.addAgent("disk-full");
        agent.start();
        const sources = await randomSources(fleet); // 72 MiB, incompressible, into 8 MiB
        const small = join(fleet.dir, "small");
        await mkdir(small);
        await writeFile(join(small, "note.txt"), "still fits\n".repeat(100));
        const repoPath = join(full, "repo");
        const repo = await fleet.createRepository(agent, {
          name: "disk-full",
          location: repoPath,
          passphrase: PASSPHRASE,
          source_paths: [sources.dir],
          compression: "lz4",
        });
        expect(summary(await fleet.waitForJob(await fleet.queue(repo, "init"), 60_000))).toEqual({
          status: "completed",
          error: null,
        });

        // If this times out with the job still "running", the agent lost its failure report
        // (borg's ENOSPC message is a traceback of several KB: an upload over the protocol's
        // caps must be cut to fit, not refused by the outbox).
        const failed = await fleet.waitForJob(await fleet.queue(repo, "backup"), 90_000);
        expect(failed.status).toBe("failed");
        // What happened comes first, not "Traceback (most recent call last)".
        expect((failed.error_message ?? "").split("\n")[0]).toMatch(
          /no space left on device|ENOSPC|errno 28/i,
        );
        expect(failed.error_message ?? "").not.toStartWith("agent lost");
        expect(failed.return_code).toBe(2);

        // borg cleaned up its partial transaction: the repository checks clean and takes a
        // backup that fits.
        expect(
          summary(await fleet.waitForJob(await fleet.queue(repo, "check", {}), 60_000)),
        ).toEqual({ status: "completed", error: null });
        const patched = await fleet.api("PATCH", `/api/repositories/${repo}`, {
          source_paths: [small],
        });
        expect(patched.status).toBe(200);
        const fits = await fleet.waitForJob(await fleet.queue(repo, "backup"), 60_000);
        expect(summary(fits)).toEqual({ status: "completed", error: null });
        expect(fits.result?.stats?.nfiles).toBe(1);
        expect(await archiveNames(fleet, repoPath)).toEqual([fits.result?.archive_name as string]);
      } finally {
        await fleet.cleanup();
      }
    },
    180_000,
  );
});
