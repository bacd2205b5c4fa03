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
import { OneLine, Text, Timestamp } from "./common.ts";
import { Size } from "./jobs/common.ts";
import { JOB_KIND_PROTOCOLS } from "./jobs/index.ts";

export { ArchiveInfo } from "./jobs/archive-list.ts";
export { BackupBlock, BackupStats } from "./jobs/backup-create.ts";
export {
  JOB_PAYLOAD_SCHEMA_VERSION,
  JobSecrets,
  MAX_ARCHIVE_NAME_CHARS,
  MAX_ARCHIVES,
  MAX_WARNING_CHARS,
  MAX_WARNINGS,
  RepositoryRef,
  UNREADABLE_OUTPUT,
} from "./jobs/common.ts";
export { CheckBlock } from "./jobs/repo-check.ts";
export { InitBlock } from "./jobs/repo-init.ts";
export { PruneBlock } from "./jobs/repo-prune.ts";

// The registry's tuple, seen as the kinds, payload schemas and result schemas it holds.
type KindProtocols = typeof JOB_KIND_PROTOCOLS;
type KindProtocol = KindProtocols[number];
type KindsOf<T extends readonly KindProtocol[]> = {
  readonly [I in keyof T]: T[I] extends { kind: infer K } ? K : never;
};
type PayloadsOf<T extends readonly KindProtocol[]> = {
  [I in keyof T]: T[I] extends { payload: infer P } ? P : never;
};
type ResultsByKind<T extends readonly KindProtocol[]> = {
  [P in T[number] as P["kind"]]: P["result"];
};
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (
  i: infer I,
) => void
  ? I
  : never;
type MergedResultShape<T extends readonly KindProtocol[]> = UnionToIntersection<
  T[number]["result"]["shape"]
>;

export const AGENT_API_PREFIX = "/api/agents";
export const AGENT_AUTH_HEADER = "X-Borg-Agent-Authorization";
export const AGENT_PROTOCOL_HEADER = "X-Borg-Agent-Protocol";

/** Every job kind, in the order they were added (from protocol/jobs/index.ts). */
export const JOB_KINDS = JOB_KIND_PROTOCOLS.map((p) => p.kind) as unknown as KindsOf<KindProtocols>;
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
 * is queued or sent, so a long borg message is cut, never refused. The result caps
 * (warnings, archive names, archive count) live with the kinds, in jobs/common.ts.
 */
export const MAX_ERROR_MESSAGE_CHARS = 8 * 1024;
export const MAX_LOG_MESSAGE_CHARS = 16 * 1024;
export const MAX_LOG_ENTRIES_PER_UPLOAD = 500;
export const MAX_PATH_CHARS = 4096;
export const MAX_PHASE_CHARS = 128;
export const MAX_LAST_ERROR_CHARS = 4096;
export const MAX_HOSTNAME_CHARS = 255;
export const MAX_VERSION_CHARS = 64;

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
//
// One schema per kind (protocol/jobs/<kind>.ts), discriminated by `job_kind`: a payload
// that lacks its kind's block is refused when it is read, never found missing while the
// job runs. The JSON is what it always was: the common fields, job_kind, and the block
// named after the kind (backup, prune, check, init) where the kind has one.

const KindPayloads = z.discriminatedUnion(
  "job_kind",
  JOB_KIND_PROTOCOLS.map((p) => p.payload) as unknown as PayloadsOf<KindProtocols>,
);
type KindPayload = z.infer<typeof KindPayloads>;
type CommonPayloadKey = "schema_version" | "job_id" | "repository" | "secrets";
type BlocksOf<P> = P extends unknown ? Omit<P, CommonPayloadKey | "job_kind"> : never;
type AllBlocks = UnionToIntersection<BlocksOf<KindPayload>>;
/** A kind's payload that also names the other kinds' blocks, as absent. */
type ExclusiveBlocks<P> = P extends unknown
  ? P & { [B in Exclude<keyof AllBlocks, keyof P>]?: undefined }
  : never;

/**
 * A payload of one kind, narrowed by job_kind. Reading another kind's block is allowed
 * and gives undefined, so kind-agnostic code (the policy, tests) can look at `.backup`.
 */
export type JobPayloadUnion = ExclusiveBlocks<KindPayload>;
export const JobPayload: z.ZodType<JobPayloadUnion> = KindPayloads;
/** The payload of one kind. */
export type JobPayloadOf<K extends JobKind> = Extract<JobPayloadUnion, { job_kind: K }>;
/**
 * Any kind's payload seen as plain fields: job_kind any kind, every kind's block
 * optional. Kind-agnostic code takes this (the store's NewJob, the agent's policy, test
 * fixtures); every JobPayloadUnion is one. Code that runs a kind takes JobPayloadOf<K>.
 */
export type JobPayload = Pick<KindPayload, CommonPayloadKey> & {
  job_kind: JobKind;
} & Partial<AllBlocks>;

/** Each kind's own result schema (protocol/jobs/<kind>.ts), by kind: the hub reads a result with it. */
export const JOB_RESULTS = Object.fromEntries(
  JOB_KIND_PROTOCOLS.map((p) => [p.kind, p.result]),
) as ResultsByKind<KindProtocols>;
/** What a complete report of one kind carries. */
export type JobResultOf<K extends JobKind> = z.infer<ResultsByKind<KindProtocols>[K]>;

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

/**
 * The result of any kind, as one strict object of every kind's result fields: which of
 * them a job must carry is its kind's result schema's to say (JOB_RESULTS, checked by
 * the hub once it knows the job). Built from the kinds, so a kind's new field is accepted
 * from the version that adds it; return_code is always required.
 */
const AnyJobResult = z
  .strictObject(
    Object.assign(
      {},
      ...JOB_KIND_PROTOCOLS.map((p) => p.result.shape),
    ) as MergedResultShape<KindProtocols>,
  )
  .partial()
  .required({ return_code: true });

export const CompleteRequest = z.strictObject({
  completed_at: Timestamp.optional(),
  result: AnyJobResult,
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
