/**
 * The runtime's handling of outbox items that cannot be read back or queued, against a
 * recording stand-in for the hub client (the real hub: test/integration/agent/long-results).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HubClient, HubRefused } from "../../../src/agent/client.ts";
import { AgentRuntime } from "../../../src/agent/loop.ts";
import { Outbox, type OutboxItem } from "../../../src/agent/outbox.ts";
import type { AgentPaths } from "../../../src/agent/state.ts";
import type { Uploader } from "../../../src/agent/uploader.ts";
import { createLogger } from "../../../src/shared/log.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function setup(overrides: Partial<Record<string, unknown>> = {}) {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-loop-"));
  dirs.push(dir);
  const outboxDir = join(dir, "outbox");
  await mkdir(outboxDir, { recursive: true });
  const calls: { kind: string; jobId: number; body: unknown }[] = [];
  const ok = { status: "running", cancel_requested: false } as const;
  const record = (kind: string) => async (jobId: number, body: unknown) => {
    calls.push({ kind, jobId, body });
    return ok;
  };
  const client = {
    heartbeat: async () => ({
      server_time: new Date().toISOString(),
      poll_interval_seconds: 1,
      heartbeat_interval_seconds: 60,
      cancel_job_ids: [],
    }),
    poll: async () => ({ jobs: [] }),
    start: record("start"),
    logs: record("logs"),
    complete: record("complete"),
    fail: record("fail"),
    canceled: record("canceled"),
    ...overrides,
  } as unknown as HubClient;
  const lines: string[] = [];
  const runtime = new AgentRuntime({
    agentId: "agent-1",
    agentVersion: "0.0.0-test",
    client,
    outbox: new Outbox(outboxDir),
    paths: { outboxDir } as AgentPaths,
    borgs: [],
    logger: createLogger({ level: "debug", write: (line) => lines.push(line) }),
    executor: { localPassphrase: async () => undefined, protect: () => () => {} },
    pollWaitSeconds: 0,
    heartbeatIntervalSeconds: 60,
    currentJob: { read: async () => undefined, write: async () => {} },
  });
  return { outboxDir, calls, lines, runtime };
}

describe("AgentRuntime and unreadable outbox items", () => {
  test("a damaged log batch beside its job's readable result: the result goes, no fail is made up", async () => {
    const { outboxDir, calls, lines, runtime } = await setup();
    await writeFile(join(outboxDir, "000000000001.json"), '{"kind":"logs","job_id":7,"body":{"ent');
    const complete: OutboxItem = {
      kind: "complete",
      job_id: 7,
      body: { result: { return_code: 0 } },
    };
    await writeFile(join(outboxDir, "000000000002.json"), JSON.stringify(complete));
    await runtime.once(0);
    expect(calls.map((c) => [c.kind, c.jobId])).toEqual([["complete", 7]]);
    expect(await readdir(outboxDir)).toEqual(["000000000001.json.bad"]);
    const line = lines.find((l) => l.includes("cannot be read back"));
    expect(line).toContain(" error ");
    expect(line).toContain("job_reported_failed=false");
  });

  test("a damaged file with no job id left in it is set aside and logged; nothing is sent", async () => {
    const { outboxDir, calls, lines, runtime } = await setup();
    await writeFile(join(outboxDir, "000000000003.json"), "\u0000\u0000garbage");
    await runtime.once(0);
    expect(calls).toEqual([]);
    expect(await readdir(outboxDir)).toEqual(["000000000003.json.bad"]);
    expect(lines.some((l) => l.includes("cannot be read back") && l.includes(" error "))).toBe(
      true,
    );
  });

  test("a damaged result fails its job with the reason, once, and is never resent", async () => {
    const { outboxDir, calls, runtime } = await setup();
    await writeFile(
      join(outboxDir, "000000000004.json"),
      JSON.stringify({ kind: "complete", job_id: 8, body: { result: { return_code: "zero" } } }),
    );
    await runtime.once(0);
    expect(calls.map((c) => [c.kind, c.jobId])).toEqual([["fail", 8]]);
    expect((calls[0]?.body as { error_message?: string } | undefined)?.error_message).toStartWith(
      "the agent could not read its queued result for this job: body.result.return_code:",
    );
    expect(await readdir(outboxDir)).toEqual(["000000000004.json.bad"]);
  });

  test("a result the outbox refuses becomes a fail that says why, instead of crashing the loop", async () => {
    const { outboxDir, calls, lines, runtime } = await setup();
    // Not a length problem (those are fitted): a count borg would never report.
    const invalid = {
      kind: "complete",
      job_id: 9,
      body: {
        result: {
          return_code: 0,
          stats: { original_size: 1, compressed_size: 1, deduplicated_size: 1, nfiles: -1 },
        },
      },
    } as OutboxItem;
    // Queued the way the runtime queues a job's result: through its uploader.
    await (runtime as unknown as { uploads: Uploader }).uploads.enqueue(invalid);
    await runtime.once(0);
    expect(calls.map((c) => [c.kind, c.jobId])).toEqual([["fail", 9]]);
    expect((calls[0]?.body as { error_message?: string } | undefined)?.error_message).toContain(
      "the agent could not queue its result for this job: refusing to queue an invalid complete upload for job 9: body.result.stats.nfiles",
    );
    expect(lines.some((l) => l.includes("an upload could not be queued"))).toBe(true);
    expect(await readdir(outboxDir)).toEqual([]);
  });

  test("a result the hub refuses (too large) becomes the job's failure, saying why", async () => {
    const refused: unknown[] = [];
    const { outboxDir, calls, runtime } = await setup({
      complete: async (_jobId: number, body: unknown) => {
        refused.push(body);
        throw new HubRefused(413, "payload_too_large", "request body over 33554432 bytes");
      },
    });
    const complete: OutboxItem = {
      kind: "complete",
      job_id: 9,
      body: { result: { return_code: 0 } },
    };
    await writeFile(join(outboxDir, "000000000001.json"), JSON.stringify(complete));
    await runtime.once(0);
    expect(refused).toHaveLength(1);
    expect(calls).toEqual([
      {
        kind: "fail",
        jobId: 9,
        body: expect.objectContaining({
          error_message: expect.stringContaining(
            "the hub refused its result (413 payload_too_large)",
          ),
          return_code: 0,
        }),
      },
    ]);
  });
});
