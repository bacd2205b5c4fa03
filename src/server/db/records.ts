/**
 * What the hub's store holds and hands out: one zod schema per record (the type is
 * inferred from it), the inputs and patches its methods take, and the status sets the
 * queries and services share. Every Store implementation parses what it reads with these
 * schemas, so a JSON column (payload, result, labels, retention …) or a status string
 * that is not what the code expects fails loudly at the store instead of deep in a
 * service. Nothing here knows SQL: the SQLite store (sqlite/) and a later PostgreSQL one
 * read and write the same records.
 *
 * Conventions: times are integer epoch milliseconds (UTC); ids are integers; JSON
 * content keeps the protocol's snake_case keys (a payload is the protocol's JobPayload).
 */
import { z } from "zod";
import {
  ArchiveInfo,
  type BorgBinary,
  JobKind,
  JobPayload,
  JobStatus,
} from "../../shared/protocol/agent.ts";
import { Role } from "../../shared/protocol/api.ts";

const Id = z.number().int();
const Time = z.number().int();
const TimeOrNull = Time.nullable();

// --- users, sessions, API tokens ------------------------------------------------------

export const UserRecord = z.object({
  id: Id,
  username: z.string(),
  passwordHash: z.string(),
  role: Role,
  createdAt: Time,
});
export type UserRow = z.infer<typeof UserRecord>;

export const ApiTokenRecord = z.object({
  id: Id,
  userId: Id,
  name: z.string(),
  role: Role,
  tokenPrefix: z.string(),
  createdAt: Time,
  expiresAt: TimeOrNull,
  lastUsedAt: TimeOrNull,
});
export type ApiTokenRow = z.infer<typeof ApiTokenRecord>;

/** A live session or API token and its user, found by the token's hash. */
export const CredentialMatchRecord = z.object({
  credentialId: Id,
  userId: Id,
  username: z.string(),
  userRole: Role,
  /** The token's own role (API tokens), else the user's. */
  role: Role,
});
export type CredentialMatch = z.infer<typeof CredentialMatchRecord>;

export interface NewUser {
  username: string;
  passwordHash: string;
  role: Role;
}

export interface NewSession {
  userId: number;
  tokenHash: string;
  tokenPrefix: string;
  expiresAt: number;
}

export interface NewApiToken {
  userId: number;
  name: string;
  role: Role;
  tokenHash: string;
  tokenPrefix: string;
  expiresAt: number | null;
}

// --- audit -----------------------------------------------------------------------------

const AuditDetails = z.record(z.string(), z.unknown());

export const AuditRecord = z.object({
  id: Id,
  at: Time,
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  ip: z.string().nullable(),
  details: AuditDetails.nullable(),
});
export type AuditRow = z.infer<typeof AuditRecord>;

export interface AuditInput {
  actor: string;
  action: string;
  target?: string | null;
  ip?: string | null;
  details?: Record<string, unknown> | null;
}

export interface AuditListQuery {
  limit: number;
  /** Only events with a smaller id (paging, newest first). */
  before?: number;
  action?: string;
}

// --- enrollment tokens ---------------------------------------------------------------

export const EnrollmentTokenRecord = z.object({
  id: Id,
  name: z.string(),
  tokenPrefix: z.string(),
  createdByUserId: Id.nullable(),
  expiresAt: Time,
  usedAt: TimeOrNull,
  usedByAgentMachineId: Id.nullable(),
  revokedAt: TimeOrNull,
  createdAt: Time,
});
export type EnrollmentTokenRow = z.infer<typeof EnrollmentTokenRecord>;

export interface NewEnrollmentToken {
  name: string;
  tokenHash: string;
  tokenPrefix: string;
  createdByUserId: number;
  expiresAt: number;
  createdAt: number;
}

// --- agent machines --------------------------------------------------------------------

export const MACHINE_STATUSES = ["pending", "online", "offline", "disabled", "revoked"] as const;
export const MachineStatus = z.enum(MACHINE_STATUSES);
export type MachineStatus = z.infer<typeof MachineStatus>;

/** The statuses in which a machine's credential may act (heartbeat, poll, uploads). */
export const RUNTIME_STATUSES: readonly MachineStatus[] = ["pending", "online", "offline"];

/**
 * A borg binary as stored: its shape only. The wire schema (protocol BorgBinary) also
 * checks the text for control characters; that was done when the agent reported it, and
 * repeating it on every credential lookup (a hot path) would buy nothing.
 */
const StoredBorgBinary = z.object({
  major: z.number().int(),
  version: z.string(),
  path: z.string(),
}) satisfies z.ZodType<BorgBinary>;

export const MachineRecord = z.object({
  id: Id,
  name: z.string(),
  agentId: z.string(),
  tokenPrefix: z.string(),
  hostname: z.string(),
  os: z.string(),
  arch: z.string(),
  agentVersion: z.string(),
  protocolVersion: z.number().int(),
  borgVersions: z.array(StoredBorgBinary),
  capabilities: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  sshPublicKey: z.string().nullable(),
  status: MachineStatus,
  lastSeenAt: TimeOrNull,
  lastError: z.string().nullable(),
  createdAt: Time,
  updatedAt: Time,
});
export type MachineRow = z.infer<typeof MachineRecord>;

export interface NewMachine {
  name: string;
  agentId: string;
  tokenHash: string;
  tokenPrefix: string;
  hostname: string;
  os: string;
  arch: string;
  agentVersion: string;
  protocolVersion: number;
  borgVersions: BorgBinary[];
  capabilities: string[];
  sshPublicKey: string | null;
  status: MachineStatus;
}

export type MachinePatch = Partial<
  Pick<
    MachineRow,
    | "name"
    | "hostname"
    | "agentVersion"
    | "protocolVersion"
    | "borgVersions"
    | "capabilities"
    | "labels"
    | "sshPublicKey"
    | "status"
    | "lastSeenAt"
    | "lastError"
  >
>;

/** What a heartbeat may change; undefined fields are left as they are. */
export type HeartbeatFacts = Partial<
  Pick<
    MachineRow,
    | "hostname"
    | "agentVersion"
    | "protocolVersion"
    | "borgVersions"
    | "capabilities"
    | "sshPublicKey"
    | "lastError"
  >
>;

export type MachineRemoval =
  | { outcome: "removed" }
  | { outcome: "not_found" }
  | { outcome: "referenced"; repositories: number };

// --- repositories ----------------------------------------------------------------------

export const PassphraseLocation = z.enum(["hub", "agent"]);
export type PassphraseLocation = z.infer<typeof PassphraseLocation>;

/**
 * A repository as services see it. The sealed passphrase is deliberately not part of it:
 * only `sealedPassphrase(id)` reads it, so a row can never carry it into a response.
 */
export const RepositoryRecord = z.object({
  id: Id,
  name: z.string(),
  agentMachineId: Id,
  location: z.string(),
  boxId: Id.nullable(),
  borgVersion: z.union([z.literal(1), z.literal(2)]),
  encryption: z.string(),
  passphraseLocation: PassphraseLocation,
  hasPassphrase: z.boolean(),
  sourcePaths: z.array(z.string()),
  excludePatterns: z.array(z.string()),
  compression: z.string(),
  archiveName: z.string(),
  appendOnly: z.boolean(),
  sshHostKey: z.string().nullable(),
  lastBackupAt: TimeOrNull,
  lastResult: z.string().nullable(),
  lastJobId: Id.nullable(),
  createdAt: Time,
  updatedAt: Time,
});
export type RepositoryRow = z.infer<typeof RepositoryRecord>;

/** The archive list last read from the repository (borg list), kept whole. */
export const StoredArchives = z.array(ArchiveInfo);

export interface NewRepository {
  name: string;
  agentMachineId: number;
  location: string;
  borgVersion: 1 | 2;
  encryption: string;
  /** AES-256-GCM sealed by SecretBox; never the plaintext. */
  passphraseEncrypted: string | null;
  passphraseLocation: PassphraseLocation;
  sourcePaths: string[];
  excludePatterns: string[];
  compression: string;
  archiveName: string;
  appendOnly: boolean;
  sshHostKey: string | null;
}

export type RepositoryPatch = Partial<
  Pick<
    NewRepository,
    | "name"
    | "passphraseEncrypted"
    | "sourcePaths"
    | "excludePatterns"
    | "compression"
    | "archiveName"
    | "sshHostKey"
  >
>;

export interface RepositoryOutcome {
  /** Only set when the backup produced an archive (completed or with warnings). */
  lastBackupAt?: number;
  lastResult: string;
  lastJobId: number;
}

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
