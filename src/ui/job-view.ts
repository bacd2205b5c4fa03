/**
 * The state of a job's detail page, fed by its SSE stream (/api/jobs/{id}/events:
 * `status` with the whole job, `progress`, `log` lines, `end`), and what the progress
 * bar shows. Pure: the page dispatches decoded events, the tests do the same.
 */

import { TERMINAL_JOB_STATUSES } from "../shared/protocol/agent.ts";
import type { Job, JobProgress } from "../shared/protocol/api.ts";
import { formatBytes, formatDuration, formatSpeed } from "./format.ts";

export interface LogLine {
  sequence: number;
  stream: string;
  message: string;
  created_at: string;
}

export type Connection = "connecting" | "live" | "ended" | "lost";

export interface JobViewState {
  job: Job | null;
  /** Sorted by sequence, each sequence once (a reconnect replays history). */
  logs: LogLine[];
  connection: Connection;
}

export type JobViewAction =
  | { type: "status"; job: Job }
  | { type: "progress"; progress: JobProgress }
  | { type: "log"; line: LogLine }
  | { type: "end"; status: string }
  | { type: "connection"; connection: Connection };

/** The page keeps the newest lines; the full log stays on the hub. */
export const MAX_LOG_LINES = 5000;

export const initialJobView: JobViewState = { job: null, logs: [], connection: "connecting" };

function insertLine(logs: LogLine[], line: LogLine): LogLine[] {
  const last = logs.at(-1);
  if (!last || last.sequence < line.sequence) {
    const next = [...logs, line];
    return next.length > MAX_LOG_LINES ? next.slice(next.length - MAX_LOG_LINES) : next;
  }
  if (logs.some((l) => l.sequence === line.sequence)) return logs;
  return [...logs, line].sort((a, b) => a.sequence - b.sequence).slice(-MAX_LOG_LINES);
}

export function isTerminal(status: string): boolean {
  return (TERMINAL_JOB_STATUSES as readonly string[]).includes(status);
}

export function jobViewReducer(state: JobViewState, action: JobViewAction): JobViewState {
  switch (action.type) {
    case "status":
      return {
        ...state,
        job: action.job,
        connection: isTerminal(action.job.status) ? "ended" : state.connection,
      };
    case "progress":
      // Progress after the job finished is stale (it can arrive out of order).
      if (!state.job || isTerminal(state.job.status)) return state;
      return { ...state, job: { ...state.job, progress: action.progress } };
    case "log":
      return { ...state, logs: insertLine(state.logs, action.line) };
    case "end":
      return {
        ...state,
        connection: "ended",
        job: state.job && { ...state.job, status: action.status as Job["status"] },
      };
    case "connection":
      // Once ended, a closing stream is not "lost".
      if (state.connection === "ended") return state;
      return { ...state, connection: action.connection };
  }
}

export type ProgressBar =
  | { kind: "percent"; percent: number; details: string[] }
  | { kind: "indeterminate"; details: string[] }
  | { kind: "none" };

/** Percent (and ETA) when borg knows it, otherwise an indeterminate bar with counters. */
export function progressBar(job: Job): ProgressBar {
  if (job.status !== "running" && job.status !== "cancel_requested") return { kind: "none" };
  const p = job.progress;
  const details: string[] = [];
  if (p.phase) details.push(p.phase);
  if (p.original_size !== null) details.push(`${formatBytes(p.original_size)} read`);
  if (p.deduplicated_size !== null) details.push(`${formatBytes(p.deduplicated_size)} new`);
  if (p.nfiles !== null) details.push(`${p.nfiles} files`);
  if (p.backup_speed !== null) details.push(formatSpeed(p.backup_speed));
  if (p.progress_percent !== null) {
    const percent = Math.min(100, Math.max(0, p.progress_percent));
    if (p.estimated_time_remaining !== null) {
      details.push(`${formatDuration(p.estimated_time_remaining)} left`);
    }
    return { kind: "percent", percent, details };
  }
  return { kind: "indeterminate", details };
}
