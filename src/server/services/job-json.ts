/**
 * Job rows → their wire shapes (protocol/api.ts Job, JobProgress, JobLog; agent.ts
 * JobSummary). Shared by the job routes, the repository routes (last job) and the live
 * event stream, so every view of a job looks the same.
 */
import type { JobSummary } from "../../shared/protocol/agent.ts";
import type { Job, JobProgress } from "../../shared/protocol/api.ts";
import type { JobLogRow, JobRow } from "../db/records.ts";
import { toIso, toIsoOrNull } from "./time.ts";

export const progressJson = (row: JobRow): JobProgress => ({
  progress_percent: row.progressPercent,
  current_file: row.currentFile,
  original_size: row.originalSize,
  compressed_size: row.compressedSize,
  deduplicated_size: row.deduplicatedSize,
  nfiles: row.nfiles,
  backup_speed: row.backupSpeed,
  estimated_time_remaining: row.estimatedTimeRemaining,
  phase: row.phase,
  updated_at: toIsoOrNull(row.progressUpdatedAt),
});

export const jobJson = (row: JobRow): Job => ({
  id: row.id,
  type: row.jobKind,
  status: row.status,
  repository_id: row.repositoryId,
  agent_machine_id: row.agentMachineId,
  plan_id: row.planId,
  scheduled_for: toIsoOrNull(row.scheduledFor),
  progress: progressJson(row),
  result: row.result,
  error_message: row.errorMessage,
  ended_reason: row.endedReason,
  return_code: row.returnCode,
  created_at: toIso(row.createdAt),
  claimed_at: toIsoOrNull(row.claimedAt),
  started_at: toIsoOrNull(row.startedAt),
  completed_at: toIsoOrNull(row.completedAt),
  triggered_by: row.triggeredBy,
});

export const jobLogJson = (log: JobLogRow) => ({
  sequence: log.sequence,
  stream: log.stream,
  message: log.message,
  created_at: toIso(log.createdAt),
});

/** What a poll shows: enough to decide to claim, never the payload. */
export const jobSummaryJson = (row: JobRow): JobSummary => ({
  id: row.id,
  job_kind: row.jobKind,
  repository_id: row.repositoryId,
  created_at: toIso(row.createdAt),
});
