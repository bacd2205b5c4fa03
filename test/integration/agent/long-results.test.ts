/**
 * Long results reach the hub (issue 10): a warning or an error over the protocol's caps
 * is cut to fit before it is queued, and a queued result that cannot be read back is
 * reported as a failure of its job and moved aside. The agent runs in-process against a
 * hub served on 127.0.0.1; the real borg, except where borg can't be made to print a
 * 9,000-character traceback on demand (a fake borg on PATH, first in line).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createRuntime } from "../../../src/agent/start.ts";
import { createLogger } from "../../../src/shared/log.ts";
import { type Job, JobLogsResponse, type Machine } from "../../../src/shared/protocol/api.ts";
import { enrollAgent, type TestAgentProcess } from "../../helpers/agent.ts";
import { createTestHub } from "../../helpers/hub.ts";

const PASSPHRASE = "long-results-passphrase";
const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;
let agent: TestAgentProcess;
let running: ReturnType<TestAgentProcess["start"]> | undefined;
let sources: string;

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  agent = await enrollAgent(hub, server.url, admin);
  sources = join(agent.dir, "sources");
  await mkdir(sources, { recursive: true });
  for (let i = 0; i < 3; i++) await writeFile(join(sources, `file-${i}.txt`), `file ${i}\n`);
});
// A stop can wait out the poll's error backoff (abortableSleep ignores an already-aborted
// signal), longer than the default hook timeout.
afterAll(async () => {
  await running?.stop();
  server.stop();
  hub.close();
  await rm(agent.dir, { recursive: true, force: true });
}, 30_000);

async function createRepository(name: string, sourcePaths: string[]) {
  const machines = (await hub.request("GET", "/api/managed-machines", { token: admin }))
    .body as Machine[];
  const response = await hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name,
      agent_machine_id: machines[0]?.id,
      location: join(agent.dir, "repos", name),
      passphrase: PASSPHRASE,
      source_paths: sourcePaths,
    },
  });
  expect(response.status).toBe(201);
  return (response.body as { id: number }).id;
}

const TERMINAL = ["completed", "completed_with_warnings", "failed", "canceled"];

/**
 * The job once terminal; bounded, so a job left running (the bug: its result skipped in
 * the outbox) shows up as a wrong status instead of a hung test.
 */
async function settledJob(jobId: number): Promise<Job> {
  let job: Job | undefined;
  for (let i = 0; i < 300; i++) {
    job = (await hub.request("GET", `/api/jobs/${jobId}`, { token: admin })).body as Job;
    if (TERMINAL.includes(job.status)) return job;
    await Bun.sleep(100);
  }
  return job as Job;
}

async function runJob(repositoryId: number, action: string): Promise<Job> {
  const queued = await hub.request("POST", `/api/repositories/${repositoryId}/${action}`, {
    token: admin,
    body: {},
  });
  expect(queued.status).toBe(202);
  return settledJob((queued.body as { job_id: number }).job_id);
}

const MARKER = /…\[truncated [\d,]+ characters\]…/;

describe("long results with the real borg", () => {
  test("a 3,800-character source path the filesystem can't look up: completed with warnings, the warning cut to fit", async () => {
    running = agent.start();
    // Existing directories, then a last component over NAME_MAX: borg warns "File name too
    // long" (a path that merely does not exist fails before borg runs: src/agent/source-paths.ts).
    const head = join(agent.dir, "deep", ...Array(16).fill("d".repeat(200)));
    await mkdir(head, { recursive: true });
    const missing = `${head}/${"e".repeat(3800 - head.length - 1)}`;
    expect(missing.length).toBe(3800);
    expect(3800 - head.length - 1).toBeGreaterThan(255);
    const id = await createRepository("long-warning", [sources, missing]);
    expect((await runJob(id, "init")).status).toBe("completed");
    const backup = await runJob(id, "backup");
    expect(backup.status).toBe("completed_with_warnings");
    expect(backup.return_code).toBe(1);
    expect(backup.result?.stats?.nfiles).toBe(3);
    // The log line (under the 16 KiB cap) arrived whole: the warning is its head and tail.
    const logs = JobLogsResponse.parse(
      (await hub.request("GET", `/api/jobs/${backup.id}/logs`, { token: admin })).body,
    );
    const line = logs.logs.find((l) => l.message.startsWith(missing))?.message ?? "";
    expect(line).toContain("File name too long");
    expect(line.length).toBeGreaterThan(4096);
    const [warning] = backup.result?.warnings ?? [];
    expect(warning?.length).toBe(4096);
    expect(warning).toMatch(MARKER);
    expect(warning?.startsWith(line.slice(0, 1000))).toBe(true);
    expect(warning?.endsWith(line.slice(-1000))).toBe(true);
    // The hub records the result before the agent hears back and removes its outbox file:
    // wait (bounded) for the removal instead of racing it.
    let left = await readdir(agent.agent.paths.outboxDir);
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await Bun.sleep(100);
      left = await readdir(agent.agent.paths.outboxDir);
    }
    expect(left).toEqual([]);
  }, 60_000);
});

describe("long results with a fake borg", () => {
  test("a 9,000-character traceback fails the job on the hub, the message cut to 8 KiB", async () => {
    await running?.stop();
    running = undefined;
    const bin = join(agent.dir, "fake-bin");
    await mkdir(bin, { recursive: true });
    const last = "OSError: [Errno 28] No space left on device";
    const frames = '  File "/usr/lib/python3/dist-packages/borg/archiver.py", line 5089, in run\n';
    let traceback = "Local Exception\nTraceback (most recent call last):\n";
    while (traceback.length + frames.length + last.length <= 9000) traceback += frames;
    traceback = `${traceback}${"#".repeat(9000 - traceback.length - last.length)}${last}`;
    expect(traceback.length).toBe(9000);
    // borg --log-json carries a traceback as one ERROR log_message; the fake prints that and exits 2.
    await writeFile(
      join(bin, "traceback.jsonl"),
      `${JSON.stringify({ type: "log_message", time: 0, levelname: "ERROR", name: "borg.archiver", message: traceback })}\n`,
    );
    await writeFile(
      join(bin, "borg"),
      `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "borg 1.2.4"; exit 0; fi\ncat "${join(bin, "traceback.jsonl")}" >&2\nexit 2\n`,
    );
    await chmod(join(bin, "borg"), 0o755);
    const lines: string[] = [];
    agent.runtime = await createRuntime(agent.agent, {
      env: { PATH: `${bin}:${process.env.PATH}` },
      logger: createLogger({ level: "debug", write: (line) => lines.push(line) }),
      version: "0.0.0-test",
    });
    running = agent.start();

    const id = await createRepository("long-error", [sources]);
    const failed = await runJob(id, "backup");
    expect(failed.status).toBe("failed");
    expect(failed.return_code).toBe(2);
    expect(failed.error_message?.length).toBe(8 * 1024);
    expect(failed.error_message).toMatch(MARKER);
    // The exception line leads (src/borg/output.ts leadWithException), then the traceback.
    expect(failed.error_message?.split("\n")[0]?.endsWith(last)).toBe(true);
    expect(failed.error_message).toContain("\n\nLocal Exception\nTraceback");
    expect(failed.error_message?.endsWith(last)).toBe(true);
    expect(lines.join("\n")).not.toContain("cannot be read back");
  }, 60_000);

  test("a queued result that cannot be read back fails its job with the reason and is kept aside", async () => {
    await running?.stop();
    running = undefined;
    const id = await createRepository("corrupt-outbox", [sources]);
    const queued = await hub.request("POST", `/api/repositories/${id}/compact`, { token: admin });
    const jobId = (queued.body as { job_id: number }).job_id;
    // The agent took the job and started it, then its result was damaged on disk.
    const agentToken = agent.agent.config.agent_token;
    expect(
      (await hub.request("POST", `/api/agents/jobs/${jobId}/claim`, { agentToken, body: {} }))
        .status,
    ).toBe(200);
    expect(
      (await hub.request("POST", `/api/agents/jobs/${jobId}/start`, { agentToken, body: {} }))
        .status,
    ).toBeLessThan(300);
    const outbox = agent.agent.paths.outboxDir;
    await mkdir(outbox, { recursive: true });
    const corrupt = `{"kind":"complete","job_id":${jobId},"body":{"result":{"return_code":0,"warn`;
    await writeFile(join(outbox, "000000000500.json"), corrupt);

    const lines: string[] = [];
    agent.runtime = await createRuntime(agent.agent, {
      env: { PATH: process.env.PATH },
      logger: createLogger({ level: "debug", write: (line) => lines.push(line) }),
      version: "0.0.0-test",
    });
    running = agent.start();
    const failed = await settledJob(jobId);
    expect(failed.status).toBe("failed");
    expect(failed.error_message).toStartWith(
      "the agent could not read its queued result for this job: not JSON",
    );
    // Kept for inspection, out of the queue; never sent again.
    for (let i = 0; i < 50 && (await readdir(outbox)).length > 1; i++) await Bun.sleep(100);
    expect(await readdir(outbox)).toEqual(["000000000500.json.bad"]);
    expect(await readFile(join(outbox, "000000000500.json.bad"), "utf8")).toBe(corrupt);
    const line = lines.find((l) => l.includes("cannot be read back"));
    expect(line).toContain(" error ");
    expect(line).toContain(`job=${jobId}`);
  }, 60_000);
});
