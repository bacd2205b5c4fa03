/**
 * The hub's user-facing API (base /api): auth, tokens, users, machines, enrollment
 * tokens, repositories, jobs, audit; plans are in api-plans.ts, storage boxes in
 * api-boxes.ts and notification channels in api-notifications.ts (all re-exported here).
 * Requests are strict (unknown fields are a 400);
 * responses are what the UI and API clients decode, and tests validate every one.
 * JSON is snake_case, times are RFC 3339 UTC.
 */
import { z } from "zod";
import { ArchiveInfo, BackupStats, BorgBinary, JobKind, JobStatus, PruneBlock } from "./agent.ts";
import { OneLine, Text, UncheckedTimestamp } from "./common.ts";

const Id = z.number().int().positive();

export const ROLES = ["admin", "operator", "viewer"] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

// --- auth ----------------------------------------------------------------------------

export const LoginRequest = z.strictObject({
  // One line: no user name can hold a control character (see CreateUserRequest), and
  // PostgreSQL's text cannot hold a NUL at all (looking one up was a 500 there).
  username: OneLine(64).min(1),
  password: z.string().min(1).max(1024),
});

export const User = z.object({
  id: Id,
  username: z.string(),
  role: Role,
  created_at: UncheckedTimestamp,
});
export type User = z.infer<typeof User>;

export const LoginResponse = z.object({
  token: z.string(),
  user: User,
  expires_at: UncheckedTimestamp,
});

/** GET /api/auth/me: who the credential belongs to and whether it is a session or an API token. */
export const Me = z.object({
  id: Id,
  username: z.string(),
  role: Role,
  via: z.enum(["session", "api_token"]),
  /**
   * The hub's public URL (--public-url) as agents should reach it, or null when it is not
   * set (the UI then uses the browser's address); absent in answers of older hubs.
   */
  public_url: z.string().nullable().optional(),
});
export type Me = z.infer<typeof Me>;

export const CreateUserRequest = z.strictObject({
  username: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "1-64 of a-z 0-9 . _ -, starting with a letter or digit"),
  password: z.string().min(12, "must be at least 12 characters").max(1024),
  role: Role,
});

export const UpdateUserRequest = z.strictObject({
  role: Role.optional(),
  password: z.string().min(12, "must be at least 12 characters").max(1024).optional(),
});

export const CreateApiTokenRequest = z.strictObject({
  name: OneLine(128).min(1),
  /** At most the creating user's own role. */
  role: Role.optional(),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
});

export const ApiToken = z.object({
  id: Id,
  name: z.string(),
  role: Role,
  token_prefix: z.string(),
  created_at: UncheckedTimestamp,
  expires_at: UncheckedTimestamp.nullable(),
  last_used_at: UncheckedTimestamp.nullable(),
});
export type ApiToken = z.infer<typeof ApiToken>;

/** Only the creation answer carries the token itself, once. */
export const CreatedApiToken = ApiToken.extend({ token: z.string() });
export type CreatedApiToken = z.infer<typeof CreatedApiToken>;

// --- machines and enrollment ---------------------------------------------------------

export const CreateEnrollmentTokenRequest = z.strictObject({
  name: OneLine(128).min(1),
  expires_in_minutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 30)
    .default(60),
});

export const EnrollmentToken = z.object({
  id: Id,
  name: z.string(),
  token_prefix: z.string(),
  expires_at: UncheckedTimestamp,
  used_at: UncheckedTimestamp.nullable(),
  used_by_agent_machine_id: Id.nullable(),
  revoked_at: UncheckedTimestamp.nullable(),
  created_at: UncheckedTimestamp,
});

export const CreatedEnrollmentToken = z.object({
  id: Id,
  name: z.string(),
  token: z.string(),
  token_prefix: z.string(),
  expires_at: UncheckedTimestamp,
});

export const MACHINE_STATUSES = ["pending", "online", "offline", "disabled", "revoked"] as const;
export const MachineStatus = z.enum(MACHINE_STATUSES);

export const Machine = z.object({
  id: Id,
  name: z.string(),
  agent_id: z.string(),
  hostname: z.string(),
  os: z.string(),
  arch: z.string(),
  agent_version: z.string(),
  borg_versions: z.array(BorgBinary),
  capabilities: z.array(z.string()),
  /**
   * How its agent talks to the hub, from what it reports: "spec" (borgctl's agent or any
   * agent following the Managed Agent Spec), "borg-ui" (Borg UI's own agent, which the
   * hub hands job payloads in its names, passphrase included, at poll).
   */
  agent_dialect: z.enum(["spec", "borg-ui"]),
  labels: z.record(z.string(), z.string()),
  ssh_public_key: z.string().nullable(),
  status: MachineStatus,
  last_seen_at: UncheckedTimestamp.nullable(),
  last_error: z.string().nullable(),
  created_at: UncheckedTimestamp,
});
export type Machine = z.infer<typeof Machine>;

export const UpdateMachineRequest = z.strictObject({
  name: OneLine(128).min(1).optional(),
  labels: z.record(z.string().regex(/^[a-z0-9][a-z0-9._/-]{0,62}$/), OneLine(256)).optional(),
});

// --- repositories --------------------------------------------------------------------

export const ENCRYPTION_MODES = [
  "repokey-blake2",
  "repokey",
  "keyfile-blake2",
  "keyfile",
  "authenticated-blake2",
  "authenticated",
  "none",
  // borg 2
  "repokey-blake2-chacha20-poly1305",
  "repokey-blake2-aes-ocb",
  "repokey-aes-ocb",
  "repokey-chacha20-poly1305",
] as const;

/**
 * A new repository passphrase: at least 10 characters. A short one is weak, and the
 * agent redacts every occurrence of the passphrase from its logs, so a one-letter
 * passphrase would blank out that letter everywhere.
 */
const NewPassphrase = Text(4096).min(10, "use at least 10 characters");

const COMPRESSION_HINT = "must be a borg compression spec such as lz4, zstd,3 or auto,zstd,10";

const RelPathList = z
  .array(
    z
      .string()
      .min(1)
      .max(4096)
      .refine((p) => !p.includes("\0"), "no NUL"),
  )
  .max(1000);

/**
 * How often a repository is expected to be backed up, set by hand (seconds, 1 minute to
 * 1 year); null/absent: derived from its enabled plans (services/freshness.ts).
 */
const ExpectedInterval = z
  .number()
  .int()
  .min(60)
  .max(366 * 86_400)
  .nullable();
/** Overdue after this many expected intervals without a successful backup. */
const OverdueFactor = z.number().min(1).max(100);

/**
 * A new repository's archive name template, expanded by borg. {now} alone is to the
 * second, so two backups finishing within one second (a small repository, "back up now"
 * twice) collided ("Archive already exists"); with microseconds they do not.
 */
export const DEFAULT_ARCHIVE_NAME = "{hostname}-{now:%Y-%m-%dT%H:%M:%S.%f}";

export const CreateRepositoryRequest = z.strictObject({
  name: OneLine(128).min(1),
  agent_machine_id: Id,
  location: z.string().min(1).max(4096).optional(),
  box_id: Id.optional(),
  borg_version: z.union([z.literal(1), z.literal(2)]).default(1),
  encryption: z.enum(ENCRYPTION_MODES).default("repokey-blake2"),
  passphrase: NewPassphrase.optional(),
  passphrase_location: z.enum(["hub", "agent"]).default("hub"),
  source_paths: RelPathList.min(1, "name at least one path to back up"),
  /** Backed up when present on the machine, skipped with a warning when not. */
  optional_source_paths: RelPathList.default([]),
  exclude_patterns: RelPathList.default([]),
  compression: z
    .string()
    .regex(/^[a-z0-9,+-]{1,64}$/, COMPRESSION_HINT)
    .default("lz4"),
  archive_name: z.string().min(1).max(256).default(DEFAULT_ARCHIVE_NAME),
  append_only: z.boolean().default(false),
  ssh_host_key: z
    .string()
    .max(16 * 1024)
    .optional(),
  /**
   * Queue repo.init right away. Default: yes for a repository on a box (the hub created
   * its directory, so nothing else is left to do), no for a custom location.
   */
  init: z.boolean().optional(),
  /**
   * With box_id: an existing repo on that box to use (the box's POST /repos/import
   * registers the machine's key for it) instead of a new one; init then defaults to no.
   */
  box_repo: z.string().min(1).max(63).optional(),
  expected_interval_seconds: ExpectedInterval.optional(),
  overdue_factor: OverdueFactor.optional(),
});
export type CreateRepositoryRequest = z.infer<typeof CreateRepositoryRequest>;

export const UpdateRepositoryRequest = z.strictObject({
  name: OneLine(128).min(1).optional(),
  passphrase: NewPassphrase.optional(),
  source_paths: RelPathList.min(1).optional(),
  optional_source_paths: RelPathList.optional(),
  exclude_patterns: RelPathList.optional(),
  compression: z
    .string()
    .regex(/^[a-z0-9,+-]{1,64}$/, COMPRESSION_HINT)
    .optional(),
  archive_name: z.string().min(1).max(256).optional(),
  ssh_host_key: z
    .string()
    .max(16 * 1024)
    .nullable()
    .optional(),
  expected_interval_seconds: ExpectedInterval.optional(),
  overdue_factor: OverdueFactor.optional(),
});

/**
 * Whether a repository is protected (API.md, Repositories). status: failing when backups
 * failed since the last success; else overdue when no backup succeeded within
 * overdue_factor × expected_interval_seconds (overdue_since: when that deadline passed,
 * stored by the hub's sweep, stable); else never when none ever succeeded; else ok.
 */
/**
 * What the storage box saw, for a repository on one (services/storage-evidence.ts):
 * agrees false when the hub recorded a successful backup the box shows no write for;
 * null when the facts cannot decide (note says why).
 */
export const StorageEvidence = z.object({
  box_id: Id,
  /** The box's newest commit to the repository (its newest integrity.N file); null: none. */
  box_last_write_at: UncheckedTimestamp.nullable(),
  /** When the hub last read the box's repo list. */
  box_listed_at: UncheckedTimestamp.nullable(),
  agrees: z.boolean().nullable(),
  note: z.string(),
});
export type StorageEvidence = z.infer<typeof StorageEvidence>;

export const RepositoryFreshness = z.object({
  status: z.enum(["ok", "overdue", "failing", "never"]),
  last_success_at: UncheckedTimestamp.nullable(),
  last_job_status: z.string().nullable(),
  failures_since_success: z.number().int(),
  /** The interval in effect; null when no enabled plan and no hand-set value give one. */
  expected_interval_seconds: z.number().int().nullable(),
  expected_interval_source: z.enum(["repository", "plans"]).nullable(),
  overdue_factor: z.number(),
  /** When it becomes (became) overdue without a success; null without an expected interval. */
  overdue_at: UncheckedTimestamp.nullable(),
  overdue_since: UncheckedTimestamp.nullable(),
  /** Repositories on a storage box: the box's side of the story; null for others. */
  storage_evidence: StorageEvidence.nullable(),
});
export type RepositoryFreshness = z.infer<typeof RepositoryFreshness>;

export const Repository = z.object({
  id: Id,
  name: z.string(),
  execution_target: z.literal("agent"),
  agent_machine_id: Id,
  location: z.string(),
  box_id: Id.nullable(),
  borg_version: z.union([z.literal(1), z.literal(2)]),
  encryption: z.string(),
  passphrase_location: z.enum(["hub", "agent"]),
  /** Whether the hub holds a passphrase; the passphrase itself never leaves in a response. */
  has_passphrase: z.boolean(),
  source_paths: z.array(z.string()),
  /** Backed up when present on the machine, skipped with a warning when not. */
  optional_source_paths: z.array(z.string()),
  exclude_patterns: z.array(z.string()),
  compression: z.string(),
  archive_name: z.string(),
  append_only: z.boolean(),
  last_backup_at: UncheckedTimestamp.nullable(),
  last_result: z.string().nullable(),
  last_job_id: Id.nullable(),
  /** The hand-set expected interval (null: from the plans; the one in effect is in freshness). */
  expected_interval_seconds: z.number().int().nullable(),
  overdue_factor: z.number(),
  freshness: RepositoryFreshness,
  created_at: UncheckedTimestamp,
  updated_at: UncheckedTimestamp,
  /** Only in the answer to POST /api/repositories, when an init job was queued. */
  init_job_id: Id.optional(),
});
export type Repository = z.infer<typeof Repository>;

/** The action in `POST /api/repositories/{id}/<action>`; each queues one job. */
export const RepositoryAction = z.enum([
  "init",
  "backup",
  "check",
  "prune",
  "compact",
  "break-lock",
  "list",
]);
export type RepositoryAction = z.infer<typeof RepositoryAction>;

/** A prune by hand: every archive of the repository (a plan's prune is scoped to its prefix). */
export const PruneJobRequest = PruneBlock.omit({ archive_prefix: true })
  .partial({ dry_run: true })
  .strict();
export const CheckJobRequest = z.strictObject({
  repository_only: z.boolean().default(false),
  verify_data: z.boolean().default(false),
});

export const JobAccepted = z.object({ job_id: Id, status: JobStatus });

export const Archives = z.object({
  archives: z.array(ArchiveInfo),
  listed_at: UncheckedTimestamp.nullable(),
});

// --- jobs ----------------------------------------------------------------------------

export const JobProgress = z.object({
  progress_percent: z.number().nullable(),
  current_file: z.string().nullable(),
  original_size: z.number().nullable(),
  compressed_size: z.number().nullable(),
  deduplicated_size: z.number().nullable(),
  nfiles: z.number().nullable(),
  backup_speed: z.number().nullable(),
  estimated_time_remaining: z.number().nullable(),
  phase: z.string().nullable(),
  updated_at: UncheckedTimestamp.nullable(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const JobResult = z.object({
  archive_name: z.string().optional(),
  stats: BackupStats.optional(),
  warnings: z.array(z.string()).optional(),
  archive_count: z.number().int().optional(),
  /** archive.browse: members listed. */
  entry_count: z.number().int().optional(),
  /** archive.extract: members and bytes restored (would be, for a dry run). */
  files: z.number().int().optional(),
  bytes: z.number().int().optional(),
  /** archive.extract dry run: the members it would restore (the first 1,000). */
  listed: z.array(z.string()).optional(),
});

export const Job = z.object({
  id: Id,
  type: JobKind,
  status: JobStatus,
  repository_id: Id.nullable(),
  agent_machine_id: Id,
  /** The plan that queued this job (its backup, or the prune/compact/check chained after it). */
  plan_id: Id.nullable().optional(),
  /** The due time of the plan run the job is for; null when not queued for a due time. */
  scheduled_for: UncheckedTimestamp.nullable().optional(),
  progress: JobProgress,
  result: JobResult.nullable(),
  error_message: z.string().nullable(),
  /**
   * Why a finished job ended (completed, borg_failed, agent_lost, canceled, expired, …);
   * null while it runs and for jobs that ended before the hub recorded it; absent in
   * answers of hubs older than the field. A string, not an enum: a newer hub may add
   * reasons an older client does not know.
   */
  ended_reason: z.string().nullable().optional(),
  return_code: z.number().int().nullable(),
  created_at: UncheckedTimestamp,
  claimed_at: UncheckedTimestamp.nullable(),
  started_at: UncheckedTimestamp.nullable(),
  completed_at: UncheckedTimestamp.nullable(),
  triggered_by: z.string(),
});
export type Job = z.infer<typeof Job>;

/** GET /api/repositories/{id}: the repository and its newest job. */
export const RepositoryDetail = Repository.extend({ last_job: Job.nullable() });
export type RepositoryDetail = z.infer<typeof RepositoryDetail>;

export const JobListQuery = z.strictObject({
  repository_id: z.coerce.number().int().positive().optional(),
  agent_machine_id: z.coerce.number().int().positive().optional(),
  status: JobStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
});

export const JobLog = z.object({
  sequence: z.number().int(),
  stream: z.string(),
  message: z.string(),
  created_at: UncheckedTimestamp,
});

export const JobLogsQuery = z.strictObject({
  after_sequence: z.coerce.number().int().min(-1).default(-1),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

export const JobLogsResponse = z.object({ logs: z.array(JobLog), next_sequence: z.number().int() });

// --- audit ---------------------------------------------------------------------------

export const AuditEvent = z.object({
  id: Id,
  at: UncheckedTimestamp,
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});

export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional(),
  action: z.string().max(64).optional(),
});

export const Health = z.object({ status: z.literal("ok"), version: z.string() });

export * from "./api-boxes.ts";
export * from "./api-notifications.ts";
export * from "./api-plans.ts";
export * from "./api-restore.ts";
