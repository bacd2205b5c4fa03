/**
 * A real agent for integration tests: enrolled through the hub's API, its config and
 * state in a temp dir, its runtime started in-process against the hub served on
 * 127.0.0.1. Jobs run the real borg.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentRuntime, RunOutcome } from "../../src/agent/loop.ts";
import {
  createRuntime,
  type LoadedAgent,
  loadAgent,
  registerAgent,
} from "../../src/agent/start.ts";
import { createLogger } from "../../src/shared/log.ts";
import type { Job } from "../../src/shared/protocol/api.ts";
import type { TestHub } from "./hub.ts";

export interface TestAgentProcess {
  dir: string;
  configPath: string;
  agent: LoadedAgent;
  logLines: string[];
  runtime: AgentRuntime;
  /** Starts runtime.run(); `stop()` ends it and resolves with its outcome. */
  start(): { stop(): Promise<RunOutcome>; done: Promise<RunOutcome> };
  /** A fresh runtime on the same config (an agent restart). */
  restart(): Promise<void>;
}

export async function enrollAgent(
  hub: TestHub,
  url: string,
  adminToken: string,
  name = "test agent",
): Promise<TestAgentProcess> {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-agent-"));
  const created = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
    token: adminToken,
    body: { name, expires_in_minutes: 10 },
  });
  const enrollment = (created.body as { token: string }).token;
  const logLines: string[] = [];
  const e = {
    env: { PATH: process.env.PATH },
    logger: createLogger({ level: "debug", write: (line) => logLines.push(line) }),
    version: "0.0.0-test",
  };
  const configPath = join(dir, "config", "agent.toml");
  await registerAgent(
    {
      serverUrl: url,
      token: enrollment,
      configPath,
      stateDir: join(dir, "state"),
      insecure: false,
    },
    e,
  );
  const agent = await loadAgent(configPath, e);
  const handle: TestAgentProcess = {
    dir,
    configPath,
    agent,
    logLines,
    runtime: await createRuntime(agent, e),
    start() {
      const controller = new AbortController();
      const done = handle.runtime.run(controller.signal);
      return {
        done,
        stop: () => {
          controller.abort();
          return done;
        },
      };
    },
    async restart() {
      handle.agent = await loadAgent(configPath, e);
      handle.runtime = await createRuntime(handle.agent, e);
    },
  };
  return handle;
}

const TERMINAL = ["completed", "completed_with_warnings", "failed", "canceled"];

/** Polls the hub's job API until `until` holds or the job is terminal. */
export async function waitForJob(
  hub: TestHub,
  token: string,
  jobId: number,
  until: (job: Job) => boolean = () => false,
): Promise<Job> {
  for (;;) {
    const { body } = await hub.request("GET", `/api/jobs/${jobId}`, { token });
    const job = body as Job;
    if (until(job) || TERMINAL.includes(job.status)) return job;
    await Bun.sleep(100);
  }
}
