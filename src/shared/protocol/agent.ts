/**
 * The hub <-> agent runtime protocol (base /api/agents). Both sides validate with these
 * schemas at run time: they are deployed separately and may run different versions.
 *
 * Lifecycle, in call order:
 *   1. register     POST /register {enrollment_token, …}     → agent_id + agent_token (once)
 *   Every later call sends `X-Borg-Agent-Authorization: Bearer <agent_token>`.
 *   2. heartbeat    POST /heartbeat every heartbeat_interval_seconds, listing
 *                   running_job_ids; renews those jobs' leases; answers cancel_job_ids.
 *   3. poll         GET /jobs/poll?limit=1&wait=25 — long poll; summaries, never secrets.
 *   4. claim        POST /jobs/{id}/claim → the full payload, the only place a passphrase
 *                   leaves the hub. Idempotent for the owner; another agent gets 404.
 *   5. start        POST /jobs/{id}/start
 *   6. progress     POST /jobs/{id}/progress   (≤ 1/s) — renews the lease, answers
 *      logs         POST /jobs/{id}/logs       cancel_requested; logs are deduplicated by
 *                                               sequence, so retries are safe.
 *   7. one of       POST /jobs/{id}/complete | /fail | /canceled  — terminal; every
 *                   later upload for the job (a retried terminal call included) answers
 *                   409 with details.status, so a retrying agent can see it landed.
 * Leases: a claimed or running job not renewed (heartbeat, progress, logs) for 5 minutes
 * is failed with "agent lost", or requeued if it never started.
 * Retries: every call may be retried after a network error; claim, start and logs are
 * idempotent for the owning agent; a repeated terminal call answers 409 (see 7).
 * Cancel: the user's cancel turns a running job into cancel_requested; the agent learns it
 * from the heartbeat answer, the progress answer or GET /jobs/{id}, stops borg with
 * SIGINT (then SIGTERM, SIGKILL), and reports /canceled.
 */
import { z } from "zod";
import { KEEP_WITHIN } from "./borg-values.ts";
import { OneLine, Text, Timestamp } from "./common.ts";

export const AGENT_API_PREFIX = "/api/agents";
export const AGENT_AUTH_HEADER = "X-Borg-Agent-Authorization";
export const AGENT_PROTOCOL_HEADER = "X-Borg-Agent-Protocol";

export const JOB_KINDS = [
  "repo.init",
  "backup.create",
  "repo.prune",
  "repo.compact",
  "repo.check",
  "repo.break_lock",
  "archive.list",
  "repo.info",
] as const;
export const JobKind = z.enum(JOB_KINDS);
export type JobKind = z.infer<typeof JobKind>;

export const JOB_STATUSES = [
  "queued",
  "claimed",
  "running",
  "cancel_requested",
  "completed",
  "completed_with_warnings",
  "failed",
  "canceled",
] as const;
export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = [
  "completed",
  "completed_with_warnings",
  "failed",
  "canceled",
];

/**
 * Caps on the text the agent uploads. zod's `.max` on a string counts Unicode code
 * points; src/agent/upload-limits.ts fits every upload to these same numbers before it
 * is queued or sent, so a long borg message is cut, never refused.
 */
export const MAX_ERROR_MESSAGE_CHARS = 8 * 1024;
export const MAX_WARNING_CHARS = 4096;
export const MAX_WARNINGS = 100;
export const MAX_ARCHIVE_NAME_CHARS = 512;
export const MAX_ARCHIVES = 100_000;
export const MAX_LOG_MESSAGE_CHARS = 16 * 1024;
export const MAX_LOG_ENTRIES_PER_UPLOAD = 500;
export const MAX_PATH_CHARS = 4096;
export const MAX_PHASE_CHARS = 128;
export const MAX_LAST_ERROR_CHARS = 4096;
export const MAX_HOSTNAME_CHARS = 255;
export const MAX_VERSION_CHARS = 64;

const Size = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const BorgBinary = z.strictObject({
  major: z.number().int().min(1).max(9),
  version: OneLine(MAX_VERSION_CHARS),
  path: Text(MAX_PATH_CHARS),
});
export type BorgBinary = z.infer<typeof BorgBinary>;

const Capabilities = z.array(OneLine(64)).max(64);

export const RegisterRequest = z.strictObject({
  enrollment_token: OneLine(256),
  protocol_version: z.number().int().min(1),
  name: OneLine(128).min(1).optional(),
  hostname: OneLine(MAX_HOSTNAME_CHARS).min(1),
  os: OneLine(32).min(1),
  arch: OneLine(32).min(1),
  agent_version: OneLine(MAX_VERSION_CHARS).min(1),
  borg_versions: z.array(BorgBinary).max(16),
  capabilities: Capabilities,
  ssh_public_key: Text(16 * 1024).optional(),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const RegisterResponse = z.object({
  agent_id: z.string(),
  agent_token: z.string(),
  server_time: Timestamp,
  poll_interval_seconds: z.number().int(),
  heartbeat_interval_seconds: z.number().int(),
});
export type RegisterResponse = z.infer<typeof RegisterResponse>;

export const HeartbeatRequest = z.strictObject({
  agent_id: OneLine(64),
  protocol_version: z.number().int().min(1),
  hostname: OneLine(MAX_HOSTNAME_CHARS).min(1).optional(),
  agent_version: OneLine(MAX_VERSION_CHARS).min(1).optional(),
  borg_versions: z.array(BorgBinary).max(16).optional(),
  capabilities: Capabilities.optional(),
  ssh_public_key: Text(16 * 1024).optional(),
  running_job_ids: z.array(z.number().int().positive()).max(64),
  last_error: Text(MAX_LAST_ERROR_CHARS).nullable().optional(),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z.object({
  server_time: Timestamp,
  poll_interval_seconds: z.number().int(),
  heartbeat_interval_seconds: z.number().int(),
  cancel_job_ids: z.array(z.number().int()),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

export const PollQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10).default(1),
  wait: z.coerce.number().int().min(0).max(30).default(0),
});

/** What a poll shows of a job: enough to decide to claim it, no secrets. */
export const JobSummary = z.object({
  id: z.number().int(),
  job_kind: JobKind,
  repository_id: z.number().int().nullable(),
  created_at: Timestamp,
});
export type JobSummary = z.infer<typeof JobSummary>;

export const PollResponse = z.object({ jobs: z.array(JobSummary) });

// --- The claimed job's payload: explicit, versioned, everything the agent needs. -----

export const JOB_PAYLOAD_SCHEMA_VERSION = 1;

export const RepositoryRef = z.object({
  id: z.number().int(),
  name: z.string(),
  /** Any borg repo URL or path, as seen from the agent. */
  location: z.string(),
  borg_version: z.union([z.literal(1), z.literal(2)]),
  encryption: z.string(),
  append_only: z.boolean(),
  /** Pinned host key line for ssh:// locations (known_hosts format), if the hub knows it. */
  ssh_host_key: z.string().nullable(),
});
export type RepositoryRef = z.infer<typeof RepositoryRef>;

export const BackupBlock = z.object({
  archive_name: z.string(),
  source_paths: z.array(z.string()).min(1),
  exclude_patterns: z.array(z.string()),
  compression: z.string(),
});

export const PruneBlock = z.object({
  keep_hourly: z.number().int().min(0).optional(),
  keep_daily: z.number().int().min(0).optional(),
  keep_weekly: z.number().int().min(0).optional(),
  keep_monthly: z.number().int().min(0).optional(),
  keep_yearly: z.number().int().min(0).optional(),
  keep_within: z
    .string()
    .regex(KEEP_WITHIN, "must look like 7d: a number and one of H d w m y")
    .optional(),
  dry_run: z.boolean(),
});
export type PruneBlock = z.infer<typeof PruneBlock>;

export const CheckBlock = z.object({
  repository_only: z.boolean(),
  verify_data: z.boolean(),
});

export const InitBlock = z.object({ encryption: z.string() });

export const JobSecrets = z.object({
  /** "agent": the agent holds the passphrase itself (borgctl agent secret set). */
  passphrase_location: z.enum(["hub", "agent"]),
  passphrase: z.string().optional(),
});

export const JobPayload = z.object({
  schema_version: z.literal(JOB_PAYLOAD_SCHEMA_VERSION),
  job_id: z.number().int(),
  job_kind: JobKind,
  repository: RepositoryRef,
  backup: BackupBlock.optional(),
  prune: PruneBlock.optional(),
  check: CheckBlock.optional(),
  init: InitBlock.optional(),
  secrets: JobSecrets,
});
export type JobPayload = z.infer<typeof JobPayload>;

export const ClaimResponse = z.object({ status: z.literal("claimed"), job: JobPayload });

export const StartRequest = z.strictObject({ started_at: Timestamp.optional() });
export type StartRequest = z.infer<typeof StartRequest>;

export const ProgressRequest = z.strictObject({
  /** null: the total is unknown, show an indeterminate bar. */
  progress_percent: z.number().min(0).max(100).nullable().optional(),
  current_file: Text(MAX_PATH_CHARS).nullable().optional(),
  original_size: Size.optional(),
  compressed_size: Size.optional(),
  deduplicated_size: Size.optional(),
  nfiles: Size.optional(),
  /** Bytes per second, a moving average. */
  backup_speed: z.number().min(0).optional(),
  estimated_time_remaining: z.number().min(0).nullable().optional(),
  phase: OneLine(MAX_PHASE_CHARS).optional(),
});
export type ProgressRequest = z.infer<typeof ProgressRequest>;

/** Every upload answers whether the user asked to cancel, so the agent learns at once. */
export const UploadResponse = z.object({
  status: JobStatus,
  cancel_requested: z.boolean(),
});

export const LogEntry = z.strictObject({
  sequence: z.number().int().min(0),
  stream: z.enum(["stdout", "stderr", "agent"]),
  message: Text(MAX_LOG_MESSAGE_CHARS),
  created_at: Timestamp,
});
export type LogEntry = z.infer<typeof LogEntry>;

export const LogsRequest = z.union([
  LogEntry,
  z.strictObject({ entries: z.array(LogEntry).min(1).max(MAX_LOG_ENTRIES_PER_UPLOAD) }),
]);

export const LogsResponse = UploadResponse.extend({
  accepted: z.number().int(),
  duplicates: z.number().int(),
});

export const BackupStats = z.object({
  original_size: Size,
  compressed_size: Size,
  deduplicated_size: Size,
  nfiles: Size,
});

export const ArchiveInfo = z.object({
  id: z.string(),
  name: z.string(),
  start: z.string().optional(),
  time: z.string().optional(),
  hostname: z.string().optional(),
  username: z.string().optional(),
  comment: z.string().optional(),
});
export type ArchiveInfo = z.infer<typeof ArchiveInfo>;

export const CompleteRequest = z.strictObject({
  completed_at: Timestamp.optional(),
  result: z.strictObject({
    return_code: z.number().int(),
    archive_name: OneLine(MAX_ARCHIVE_NAME_CHARS).optional(),
    stats: BackupStats.optional(),
    archives: z.array(ArchiveInfo).max(MAX_ARCHIVES).optional(),
    warnings: z.array(Text(MAX_WARNING_CHARS)).max(MAX_WARNINGS).optional(),
  }),
});
export type CompleteRequest = z.infer<typeof CompleteRequest>;

export const FailRequest = z.strictObject({
  completed_at: Timestamp.optional(),
  error_message: Text(MAX_ERROR_MESSAGE_CHARS),
  return_code: z.number().int().nullable().optional(),
});
export type FailRequest = z.infer<typeof FailRequest>;

export const CanceledRequest = z.strictObject({
  completed_at: Timestamp.optional(),
  return_code: z.number().int().nullable().optional(),
});

export type CanceledRequest = z.infer<typeof CanceledRequest>;

export const AgentJobStatus = z.object({
  id: z.number().int(),
  status: JobStatus,
  cancel_requested: z.boolean(),
});
