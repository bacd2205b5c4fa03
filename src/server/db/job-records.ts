/**
 * The job and plan records of the hub's store (see records.ts, which re-exports them):
 * jobs, their logs, and backup plans, each a zod schema with its inferred type, plus the
 * inputs, patches and status sets the queries and services share.
 */
import { z } from "zod";
import { JobKind, JobPayload, JobStatus } from "../../shared/protocol/agent.ts";

const Id = z.number().int();
const Time = z.number().int();
const TimeOrNull = Time.nullable();

// --- jobs ------------------------------------------------------------------------------

/** Not finished: counts against "one backup at a time" and blocks deleting the repository. */
export const ACTIVE_JOB_STATUSES = ["queued", "claimed", "running", "cancel_requested"] as const;
/** Held by an agent under a lease. */
export const HELD_JOB_STATUSES = ["claimed", "running", "cancel_requested"] as const;

/** Where a job runs: on an agent machine, or (later) on a storage box through its job API. */
export const JobTarget = z.enum(["agent", "box"]);
export type JobTarget = z.infer<typeof JobTarget>;

/**
 * Why a job ended, machine-readable, so no caller has to parse it out of error_message.
 * Set by the terminal transitions (null while the job is not finished, and for jobs
 * finished before the column existed).
 */
export const JOB_ENDED_REASONS = [
  "completed",
  "borg_failed",
  "agent_lost",
  "canceled",
  "expired",
  "box_failed",
] as const;
export const JobEndedReason = z.enum(JOB_ENDED_REASONS);
export type JobEndedReason = z.infer<typeof JobEndedReason>;

/** What a job's result column holds: the agent's report, trimmed to what the hub keeps. */
export const StoredJobResult = z.object({
  archive_name: z.string().optional(),
  stats: z
    .object({
      original_size: z.number(),
      compressed_size: z.number(),
      deduplicated_size: z.number(),
      nfiles: z.number(),
    })
    .optional(),
  warnings: z.array(z.string()).optional(),
  archive_count: z.number().int().optional(),
  /** archive.browse: members uploaded. */
  entry_count: z.number().int().optional(),
  /** archive.extract: members and bytes restored (would be, for a dry run), and a dry run's names. */
  files: z.number().int().optional(),
  bytes: z.number().int().optional(),
  listed: z.array(z.string()).optional(),
});
export type StoredJobResult = z.infer<typeof StoredJobResult>;

const JobProgressFields = {
  progressPercent: z.number().nullable(),
  currentFile: z.string().nullable(),
  originalSize: z.number().nullable(),
  compressedSize: z.number().nullable(),
  deduplicatedSize: z.number().nullable(),
  nfiles: z.number().nullable(),
  backupSpeed: z.number().nullable(),
  estimatedTimeRemaining: z.number().nullable(),
  phase: z.string().nullable(),
  progressUpdatedAt: TimeOrNull,
};

/**
 * A job. Every job today runs on an agent (target "agent", agentMachineId set): the
 * store only creates those, and reading a row of another target fails this schema
 * loudly rather than passing a box job to code that assumes an agent. The box target
 * (agentMachineId null, boxId set) joins as a second member of a union when box jobs
 * are built; the columns are there already.
 */
export const JobRecord = z.object({
  id: Id,
  target: z.literal("agent"),
  agentMachineId: Id,
  boxId: Id.nullable(),
  repositoryId: Id.nullable(),
  planId: Id.nullable(),
  jobKind: JobKind,
  status: JobStatus,
  /** The payload as queued: no secrets. */
  payload: JobPayload,
  result: StoredJobResult.nullable(),
  errorMessage: z.string().nullable(),
  endedReason: JobEndedReason.nullable(),
  returnCode: z.number().int().nullable(),
  triggeredBy: z.string(),
  /** The due time of the plan run that queued this job (null when not queued by a plan). */
  scheduledFor: TimeOrNull,
  createdAt: Time,
  updatedAt: Time,
  claimedAt: TimeOrNull,
  startedAt: TimeOrNull,
  completedAt: TimeOrNull,
  cancelRequestedAt: TimeOrNull,
  leaseExpiresAt: TimeOrNull,
  ...JobProgressFields,
});
export type JobRow = z.infer<typeof JobRecord>;

export type JobProgressColumns = Pick<JobRow, keyof typeof JobProgressFields>;

export interface NewJob {
  agentMachineId: number;
  repositoryId: number;
  jobKind: JobKind;
  triggeredBy: string;
  /** Builds the payload once the job id is known (the payload carries it). */
  payloadFor: (jobId: number) => JobPayload;
  /** Refuse when the repository already has an active job of this kind. */
  exclusive: boolean;
  /** Set when a plan queues the job: the plan and the due time this run is for. */
  planId?: number | null;
  scheduledFor?: number | null;
}

export interface JobListFilter {
  repositoryId?: number;
  agentMachineId?: number;
  status?: JobStatus;
  limit: number;
  /** Only jobs with a smaller id (paging, newest first). */
  before?: number;
}

export interface JobFinish {
  status: Extract<JobStatus, "completed" | "completed_with_warnings" | "failed" | "canceled">;
  result?: StoredJobResult | null;
  errorMessage?: string | null;
  returnCode?: number | null;
  /** Why it ended; stored as given (null when not given). */
  endedReason?: JobEndedReason | null;
}

/** A progress upload: undefined keeps the stored value, null clears it. */
export type ProgressPatch = Partial<Omit<JobProgressColumns, "progressUpdatedAt">>;

export const JobLogRecord = z.object({
  sequence: z.number().int(),
  stream: z.string(),
  message: z.string(),
  /** When the agent saw the line (its clock), epoch ms. */
  createdAt: Time,
});
export type JobLogRow = z.infer<typeof JobLogRecord>;

// --- plans -----------------------------------------------------------------------------

/** Which archives a plan's prune keeps (borg prune's --keep-* options, API.md Plans). */
export const PlanRetention = z.object({
  keep_within: z.string().optional(),
  keep_last: z.number().int().min(0).optional(),
  keep_hourly: z.number().int().min(0).optional(),
  keep_daily: z.number().int().min(0).optional(),
  keep_weekly: z.number().int().min(0).optional(),
  keep_monthly: z.number().int().min(0).optional(),
  keep_yearly: z.number().int().min(0).optional(),
});
export type PlanRetention = z.infer<typeof PlanRetention>;

/** A due time that passed while the hub was down: queue one run for all of them, or none. */
export const MissedRun = z.enum(["run_once", "skip"]);
export type MissedRun = z.infer<typeof MissedRun>;

/**
 * A backup plan of one repository: when to back up (a cron `schedule` in `timezone`),
 * what to keep, how often to compact and check. The scheduler (a later issue) reads
 * these; `lastRunAt`/`lastJobId` are the last due time it acted on and the job it queued.
 */
export const PlanRecord = z.object({
  id: Id,
  repositoryId: Id,
  name: z.string(),
  schedule: z.string(),
  timezone: z.string(),
  enabled: z.boolean(),
  /** null: no retention rules, so nothing is pruned. */
  retention: PlanRetention.nullable(),
  pruneAfterBackup: z.boolean(),
  compactEveryDays: z.number().int().nullable(),
  checkEveryDays: z.number().int().nullable(),
  checkVerifyData: z.boolean(),
  missedRun: MissedRun,
  randomDelaySeconds: z.number().int(),
  lastRunAt: TimeOrNull,
  lastJobId: Id.nullable(),
  /** When the plan last queued a compact / a check after its backup (their cadence). */
  lastCompactAt: TimeOrNull,
  lastCheckAt: TimeOrNull,
  createdAt: Time,
  updatedAt: Time,
});
export type PlanRow = z.infer<typeof PlanRecord>;

export interface NewPlan {
  repositoryId: number;
  name: string;
  schedule: string;
  timezone: string;
  enabled: boolean;
  retention: PlanRetention | null;
  pruneAfterBackup: boolean;
  compactEveryDays: number | null;
  checkEveryDays: number | null;
  checkVerifyData: boolean;
  missedRun: MissedRun;
  randomDelaySeconds: number;
}

/** undefined keeps the stored value. */
export type PlanPatch = Partial<
  Omit<NewPlan, "repositoryId"> & Pick<PlanRow, "lastRunAt" | "lastJobId">
>;

export interface PlanListFilter {
  repositoryId?: number;
}
