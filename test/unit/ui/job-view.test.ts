import { describe, expect, test } from "bun:test";
import type { Job, JobProgress } from "../../../src/shared/protocol/api.ts";
import {
  initialJobView,
  type JobViewAction,
  jobViewReducer,
  MAX_LOG_LINES,
  progressBar,
} from "../../../src/ui/job-view.ts";

const noProgress: JobProgress = {
  progress_percent: null,
  current_file: null,
  original_size: null,
  compressed_size: null,
  deduplicated_size: null,
  nfiles: null,
  backup_speed: null,
  estimated_time_remaining: null,
  phase: null,
  updated_at: null,
};

const job = (over: Partial<Job> = {}): Job => ({
  id: 7,
  type: "backup.create",
  status: "running",
  repository_id: 1,
  agent_machine_id: 1,
  progress: noProgress,
  result: null,
  error_message: null,
  return_code: null,
  created_at: "2025-01-01T00:00:00Z",
  claimed_at: "2025-01-01T00:00:01Z",
  started_at: "2025-01-01T00:00:02Z",
  completed_at: null,
  triggered_by: "user:1:admin",
  ...over,
});

const line = (sequence: number) => ({
  sequence,
  stream: "stderr",
  message: `line ${sequence}`,
  created_at: "2025-01-01T00:00:00Z",
});

const run = (...actions: JobViewAction[]) => actions.reduce(jobViewReducer, initialJobView);

describe("jobViewReducer", () => {
  test("status, then progress updates the job", () => {
    const progress = { ...noProgress, nfiles: 12 };
    const state = run(
      { type: "connection", connection: "live" },
      { type: "status", job: job() },
      { type: "progress", progress },
    );
    expect(state.job?.progress.nfiles).toBe(12);
    expect(state.connection).toBe("live");
  });

  test("log lines: sorted by sequence, each once (a reconnect replays history)", () => {
    const state = run(
      { type: "log", line: line(0) },
      { type: "log", line: line(2) },
      { type: "log", line: line(1) },
      { type: "log", line: line(0) },
      { type: "log", line: line(2) },
    );
    expect(state.logs.map((l) => l.sequence)).toEqual([0, 1, 2]);
  });

  test("keeps only the newest lines", () => {
    const actions: JobViewAction[] = [];
    for (let i = 0; i < MAX_LOG_LINES + 10; i++) actions.push({ type: "log", line: line(i) });
    const state = run(...actions);
    expect(state.logs).toHaveLength(MAX_LOG_LINES);
    expect(state.logs[0]?.sequence).toBe(10);
  });

  test("end: the job takes the final status; a late progress or a closing stream changes nothing", () => {
    const state = run(
      { type: "status", job: job() },
      { type: "end", status: "completed" },
      { type: "progress", progress: { ...noProgress, nfiles: 99 } },
      { type: "connection", connection: "lost" },
    );
    expect(state.job?.status).toBe("completed");
    expect(state.job?.progress.nfiles).toBeNull();
    expect(state.connection).toBe("ended");
  });

  test("a terminal status ends the view; a lost connection before that shows", () => {
    expect(run({ type: "status", job: job({ status: "failed" }) }).connection).toBe("ended");
    expect(
      run({ type: "status", job: job() }, { type: "connection", connection: "lost" }).connection,
    ).toBe("lost");
  });
});

describe("progressBar", () => {
  test("percent and ETA when borg knows them", () => {
    const bar = progressBar(
      job({ progress: { ...noProgress, progress_percent: 42.5, estimated_time_remaining: 90 } }),
    );
    expect(bar).toEqual({ kind: "percent", percent: 42.5, details: ["1m 30s left"] });
  });

  test("indeterminate with bytes, files and speed otherwise", () => {
    const bar = progressBar(
      job({
        progress: {
          ...noProgress,
          original_size: 2048,
          deduplicated_size: 1024,
          nfiles: 5,
          backup_speed: 1024,
        },
      }),
    );
    expect(bar).toEqual({
      kind: "indeterminate",
      details: ["2.0 KiB read", "1.0 KiB new", "5 files", "1.0 KiB/s"],
    });
  });

  test("percent is clamped; no bar unless running", () => {
    expect(progressBar(job({ progress: { ...noProgress, progress_percent: 140 } }))).toMatchObject({
      percent: 100,
    });
    expect(progressBar(job({ status: "queued" }))).toEqual({ kind: "none" });
    expect(progressBar(job({ status: "completed" }))).toEqual({ kind: "none" });
  });
});
