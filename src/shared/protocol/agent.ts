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
 * SIGINT (then SIGTERM, SIGKILL), and reports /canceled (or /cancel, the same route).
 *
 * Version tolerance: every schema here is a plain (non-strict) object in both directions,
 * so a field one side does not know is dropped, never refused — agents and hubs are
 * upgraded separately, and spec-following agents that are not borgctl's (the Managed
 * Agent Spec's examples) send what they send. Each field is still checked for what its
 * reader needs (types, caps, no control characters). `protocol_version` absent = 1.
 * The user API (api.ts) stays strict: there an unknown field is a typo worth a 400.
 */
import { z } from "zod";
import { OneLine, Text, Timestamp } from "./common.ts";
import { Size } from "./jobs/common.ts";
import { JOB_KIND_PROTOCOLS } from "./jobs/index.ts";

export {
  ARCHIVE_ENTRY_TYPES,
  BrowseBlock,
  ListingChunk,
  ListingEntry,
  MAX_LISTING_CHUNK_BYTES,
  MAX_LISTING_CHUNK_ENTRIES,
  MAX_MEMBER_PATH_CHARS,
} from "./jobs/archive-browse.ts";
export {
  DownloadBlock,
  DownloadChunkQuery,
  MAX_DOWNLOAD_CHUNK_BYTES,
} from "./jobs/archive-download.ts";
export { MAX_RESTORE_LISTED, MAX_RESTORE_PATHS, RestoreBlock } from "./jobs/archive-extract.ts";
export { ArchiveInfo } from "./jobs/archive-list.ts";
export { BackupBlock, BackupStats, OPTIONAL_SOURCES_CAPABILITY } from "./jobs/backup-create.ts";
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
export { PLAN_PRUNE_CAPABILITY, PruneBlock } from "./jobs/repo-prune.ts";

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

export const BorgBinary = z.object({
  major: z.number().int().min(1).max(9),
  version: OneLine(MAX_VERSION_CHARS),
  path: Text(MAX_PATH_CHARS),
});
export type BorgBinary = z.infer<typeof BorgBinary>;

const Capabilities = z.array(OneLine(64)).max(64);

/** An agent's own protocol version; absent (spec-following agents send none) = 1. */
const ProtocolVersion = z.number().int().min(1).default(1);

/**
 * Labels an agent reports (register, heartbeat): the same keys and values an admin may
 * set with PATCH /api/managed-machines/{id}, so every stored label is one an admin can
 * also edit. How they combine with the admin's: services/machines.ts recordAgentLabels.
 */
export const LABEL_KEY = /^[a-z0-9][a-z0-9._/-]{0,62}$/;
export const MAX_AGENT_LABELS = 64;
export const AgentLabels = z
  .record(
    z.string().regex(LABEL_KEY, "must be lowercase letters, digits and . _ / -"),
    OneLine(256),
  )
  .refine((labels) => Object.keys(labels).length <= MAX_AGENT_LABELS, {
    message: `at most ${MAX_AGENT_LABELS} labels`,
  });

export const RegisterRequest = z.object({
  enrollment_token: OneLine(256),
  protocol_version: ProtocolVersion,
  name: OneLine(128).min(1).optional(),
  hostname: OneLine(MAX_HOSTNAME_CHARS).min(1),
  os: OneLine(32).min(1),
  arch: OneLine(32).min(1),
  agent_version: OneLine(MAX_VERSION_CHARS).min(1),
  borg_versions: z.array(BorgBinary).max(16),
  capabilities: Capabilities,
  labels: AgentLabels.optional(),
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

export const HeartbeatRequest = z.object({
  agent_id: OneLine(64),
  protocol_version: ProtocolVersion,
  hostname: OneLine(MAX_HOSTNAME_CHARS).min(1).optional(),
  agent_version: OneLine(MAX_VERSION_CHARS).min(1).optional(),
  borg_versions: z.array(BorgBinary).max(16).optional(),
  capabilities: Capabilities.optional(),
  labels: AgentLabels.optional(),
  ssh_public_key: Text(16 * 1024).optional(),
  /** Absent: nothing running (no lease to renew). */
  running_job_ids: z.array(z.number().int().positive()).max(64).default([]),
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

export const PollQuery = z.object({
  limit: z.coerce.number().int().min(1).max(10).default(1),
  wait: z.coerce.number().int().min(0).max(30).default(0),
});

/** What stands in a polled payload where the claim's carries a secret. */
export const SecretRef = z.object({ secret_ref: z.string() });
export type SecretRef = z.infer<typeof SecretRef>;
/** The reference to the repository's passphrase (the claim carries the value). */
export const PASSPHRASE_SECRET_REF = "repository-passphrase";

/**
 * A payload as a poll shows it (the spec's poll answer): the claim's payload, versioned
 * (schema_version, job_kind, repository, the kind's block), with every secret replaced by
 * a SecretRef. Read loosely: the agent decides from the summary and claims for the real
 * payload, so it needs nothing here and must not trip over a newer hub's shape.
 */
export const PolledPayload = z.looseObject({
  schema_version: z.number().int(),
  job_kind: z.string(),
  secrets: z
    .looseObject({ passphrase_location: z.string(), passphrase: SecretRef.optional() })
    .optional(),
});
export type PolledPayload = z.infer<typeof PolledPayload>;

/**
 * What a poll shows of a job: enough to decide to claim it, no secrets. `type` and
 * `payload` are the spec's; `job_kind` and `repository_id` are what borgctl agents older
 * than them read (type is the same value as job_kind). Optional when decoding, since an
 * older hub sends none of the spec's.
 */
export const JobSummary = z.object({
  id: z.number().int(),
  type: z.string().optional(),
  job_kind: JobKind,
  repository_id: z.number().int().nullable(),
  created_at: Timestamp,
  payload: PolledPayload.optional(),
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

export const StartRequest = z.object({ started_at: Timestamp.optional() });
export type StartRequest = z.infer<typeof StartRequest>;

export const ProgressRequest = z.object({
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

export const LogEntry = z.object({
  sequence: z.number().int().min(0),
  stream: z.enum(["stdout", "stderr", "agent"]),
  message: Text(MAX_LOG_MESSAGE_CHARS),
  /** Absent: the hub's time when it arrives (borgctl's agent always sends its own). */
  created_at: Timestamp.optional(),
});
export type LogEntry = z.infer<typeof LogEntry>;

// The batch first: with non-strict objects a batch must not be read as one entry whose
// extra fields are dropped (a body that has `entries` is a batch).
export const LogsRequest = z.union([
  z.object({ entries: z.array(LogEntry).min(1).max(MAX_LOG_ENTRIES_PER_UPLOAD) }),
  LogEntry,
]);

export const LogsResponse = UploadResponse.extend({
  accepted: z.number().int(),
  duplicates: z.number().int(),
});

/**
 * The result of any kind, as one object of every kind's result fields: which of them a
 * job must carry is its kind's result schema's to say (JOB_RESULTS, checked by the hub
 * once it knows the job). Built from the kinds; a field no kind knows (a newer agent's)
 * is dropped; return_code is always required.
 */
const AnyJobResult = z
  .object(
    Object.assign(
      {},
      ...JOB_KIND_PROTOCOLS.map((p) => p.result.shape),
    ) as MergedResultShape<KindProtocols>,
  )
  .partial()
  .required({ return_code: true });

export const CompleteRequest = z.object({
  completed_at: Timestamp.optional(),
  result: AnyJobResult,
});
export type CompleteRequest = z.infer<typeof CompleteRequest>;

export const FailRequest = z.object({
  completed_at: Timestamp.optional(),
  error_message: Text(MAX_ERROR_MESSAGE_CHARS),
  return_code: z.number().int().nullable().optional(),
});
export type FailRequest = z.infer<typeof FailRequest>;

export const CanceledRequest = z.object({
  completed_at: Timestamp.optional(),
  return_code: z.number().int().nullable().optional(),
});

export type CanceledRequest = z.infer<typeof CanceledRequest>;

export const AgentJobStatus = z.object({
  id: z.number().int(),
  status: JobStatus,
  cancel_requested: z.boolean(),
});
