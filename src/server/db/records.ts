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
import { ArchiveInfo, type BorgBinary } from "../../shared/protocol/agent.ts";
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

/** What re-verifying a remembered agent credential reads of its machine. */
export const MachineCredentialRecord = MachineRecord.pick({
  id: true,
  agentId: true,
  name: true,
  status: true,
  capabilities: true,
}).extend({ tokenHash: z.string() });
export type MachineCredentialRow = z.infer<typeof MachineCredentialRecord>;

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
  /** Backed up when present on the machine, skipped with a warning when not. */
  optionalSourcePaths: z.array(z.string()),
  excludePatterns: z.array(z.string()),
  compression: z.string(),
  archiveName: z.string(),
  appendOnly: z.boolean(),
  sshHostKey: z.string().nullable(),
  lastBackupAt: TimeOrNull,
  lastResult: z.string().nullable(),
  lastJobId: Id.nullable(),
  /** Set by hand (PATCH); null: the expected interval comes from the enabled plans. */
  expectedIntervalSeconds: z.number().int().nullable(),
  /** Overdue after factor × the expected interval without a successful backup. */
  overdueFactor: z.number(),
  /** Backups that failed since the last one that produced an archive. */
  failuresSinceSuccess: z.number().int(),
  /** When the repository went overdue (stored once by the freshness sweep); null while not. */
  overdueSince: TimeOrNull,
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
  /** Default none. */
  optionalSourcePaths?: string[];
  excludePatterns: string[];
  compression: string;
  archiveName: string;
  appendOnly: boolean;
  sshHostKey: string | null;
  /** The storage box the hub created the repository on; absent or null for a custom location. */
  boxId?: number | null;
  /** Default null (from the plans). */
  expectedIntervalSeconds?: number | null;
  /** Default 1.5. */
  overdueFactor?: number;
}

export type RepositoryPatch = Partial<
  Pick<
    NewRepository,
    | "name"
    | "passphraseEncrypted"
    | "sourcePaths"
    | "optionalSourcePaths"
    | "excludePatterns"
    | "compression"
    | "archiveName"
    | "sshHostKey"
    | "expectedIntervalSeconds"
    | "overdueFactor"
  >
>;

export interface RepositoryOutcome {
  /**
   * Only set when the backup produced an archive (completed or with warnings): a success,
   * which also resets failuresSinceSuccess and ends an overdue spell (overdueSince → null).
   */
  lastBackupAt?: number;
  /** A backup that failed: failuresSinceSuccess + 1 (ignored with lastBackupAt). */
  failed?: boolean;
  lastResult: string;
  lastJobId: number;
}

// Jobs, their logs and plans: job-records.ts; storage boxes: box-records.ts.
export * from "./box-records.ts";
export * from "./job-records.ts";
// The archive listing cache: listing-records.ts.
export * from "./listing-records.ts";
// Notification channels and their outbox: notification-records.ts.
export * from "./notification-records.ts";
