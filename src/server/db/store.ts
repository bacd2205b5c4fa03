/**
 * The hub's Store: every read and write of its state, as an async interface. Services
 * take a Store (deps.store) and never see SQL, drizzle or a database driver; the SQLite
 * store (sqlite/store.ts) and the PostgreSQL store for several hub replicas (pg/store.ts)
 * implement it, and test/conformance/store.ts is the one suite both pass. The groups of
 * boxes, notifications and the listing cache live in box-store.ts, notification-store.ts
 * and listing-store.ts, re-exported here.
 *
 * Contract every implementation keeps:
 * - every method returns a Promise and takes and returns plain records (records.ts),
 *   parsed with their zod schemas when read;
 * - every state change of a job or machine is one guarded write (`… WHERE status IN
 *   (…)`): of two racing callers exactly one gets the changed row back, the other gets
 *   undefined (or false / []) and nothing changed;
 * - methods documented as atomic (insertQueued, recordHeartbeat, redeem) are atomic on
 *   their own; for several writes that must land together, use `transaction`;
 * - times are epoch milliseconds passed in by the caller (the store reads no clock),
 *   except the database defaults of created_at/updated_at where a caller gives none.
 */
import type { ArchiveInfo, JobStatus } from "../../shared/protocol/agent.ts";
import type { BoxStore, LentBoxKeyStore } from "./box-store.ts";
import type { ArchiveListingStore } from "./listing-store.ts";
import type { NotificationStore } from "./notification-store.ts";
import type {
  ApiTokenRow,
  AuditInput,
  AuditListQuery,
  AuditRow,
  CredentialMatch,
  EnrollmentTokenRow,
  HeartbeatFacts,
  JobEndedReason,
  JobFinish,
  JobListFilter,
  JobLogRow,
  JobRow,
  MachineCredentialRow,
  MachinePatch,
  MachineRemoval,
  MachineRow,
  MachineStatus,
  NewApiToken,
  NewEnrollmentToken,
  NewJob,
  NewMachine,
  NewPlan,
  NewRepository,
  NewSession,
  NewUser,
  PlanListFilter,
  PlanPatch,
  PlanRow,
  ProgressPatch,
  RepositoryOutcome,
  RepositoryPatch,
  RepositoryRow,
  UserRow,
} from "./records.ts";

export * from "./box-store.ts";
export * from "./listing-store.ts";
export * from "./notification-store.ts";

export interface UserStore {
  count(): Promise<number>;
  list(): Promise<UserRow[]>;
  byId(id: number): Promise<UserRow | undefined>;
  byUsername(username: string): Promise<UserRow | undefined>;
  /** Undefined when the username is taken. */
  insert(user: NewUser): Promise<UserRow | undefined>;
  /** False when there is no such user. */
  update(
    id: number,
    patch: { role?: UserRow["role"]; passwordHash?: string },
    now: number,
  ): Promise<boolean>;
  remove(id: number): Promise<boolean>;
  countAdmins(): Promise<number>;
}

export interface SessionStore {
  insert(session: NewSession): Promise<{ id: number }>;
  /** The live (unexpired) session for a token hash, with its user; touches last_used_at. */
  match(tokenHash: string, now: number): Promise<CredentialMatch | undefined>;
  remove(id: number): Promise<void>;
  removeForUser(userId: number): Promise<void>;
  /** Deletes sessions that expired before `now`; returns how many. */
  removeExpired(now: number): Promise<number>;
}

export interface ApiTokenStore {
  insert(token: NewApiToken): Promise<ApiTokenRow>;
  /** The user's live tokens (not revoked, not expired at `now`), oldest first. */
  listForUser(userId: number, now: number): Promise<ApiTokenRow[]>;
  /** The live token for a hash, with its user; touches last_used_at. */
  match(tokenHash: string, now: number): Promise<CredentialMatch | undefined>;
  /** Revokes a live token of `userId` (of anyone when undefined: admins); false when none. */
  revoke(id: number, userId: number | undefined, now: number): Promise<boolean>;
}

export interface AuditStore {
  append(event: AuditInput, now: number): Promise<void>;
  /** Several events in one INSERT (a sweep's batch), in the order given. */
  appendMany(events: readonly AuditInput[], now: number): Promise<void>;
  /** Newest first; page with `before` = the smallest id of the previous page. */
  list(query: AuditListQuery): Promise<AuditRow[]>;
}

export interface EnrollmentStore {
  insert(token: NewEnrollmentToken): Promise<EnrollmentTokenRow>;
  /** Every token, used, revoked and expired ones included, oldest first. */
  list(): Promise<EnrollmentTokenRow[]>;
  byId(id: number): Promise<EnrollmentTokenRow | undefined>;
  /** A presented token by hash whatever its state (to explain a refusal in the audit). */
  byHash(tokenHash: string): Promise<EnrollmentTokenRow | undefined>;
  /** Revokes a token not yet revoked; false when there is no such live row. */
  revoke(id: number, now: number): Promise<boolean>;
  /**
   * Atomically consumes the token (unused, unrevoked, unexpired at `now`) and creates the
   * machine. Of racing redeemers of one token exactly one gets ids; the rest undefined.
   * If creating the machine throws, nothing is written and the token stays usable.
   */
  redeem(
    tokenHash: string,
    now: number,
    machine: NewMachine,
  ): Promise<{ tokenId: number; machineId: number } | undefined>;
}

export interface MachineStore {
  insert(machine: NewMachine): Promise<MachineRow>;
  /** Oldest first. */
  list(): Promise<MachineRow[]>;
  byId(id: number): Promise<MachineRow | undefined>;
  /** The machine a credential belongs to, any status (a hot path: every agent request). */
  byTokenHash(tokenHash: string): Promise<MachineRow | undefined>;
  /**
   * Those of `ids` that exist, each with its credential's hash (re-verifying the hub's
   * remembered credentials in bulk: services/trust-refresh.ts). Any order.
   */
  credentials(ids: readonly number[]): Promise<MachineCredentialRow[]>;
  update(id: number, patch: MachinePatch, now: number): Promise<MachineRow | undefined>;
  /** Guarded status change: only from one of `from`. The row when it changed. */
  transition(
    id: number,
    from: readonly MachineStatus[],
    to: MachineStatus,
    now: number,
  ): Promise<MachineRow | undefined>;
  /**
   * Online machines not seen since `seenBefore` → offline, at most `limit` of them (the
   * lowest ids) in one guarded UPDATE; returns them. A sweep repeats it until fewer come back.
   */
  markStaleOffline(seenBefore: number, now: number, limit?: number): Promise<MachineRow[]>;
  remove(id: number): Promise<boolean>;
  /**
   * Atomically records a heartbeat (facts, last_seen_at, status → online), only while the
   * machine may act (RUNTIME_STATUSES): a disable landing in between wins. Undefined when
   * the machine can't act; else the status it had and the updated row.
   */
  recordHeartbeat(
    id: number,
    facts: HeartbeatFacts,
    now: number,
  ): Promise<{ previousStatus: MachineStatus; machine: MachineRow } | undefined>;
  /**
   * The coalesced heartbeats of one second (services/heartbeat-batch.ts), in one UPDATE:
   * last_seen_at → at least `seenAt` for those of `ids` that are online (nothing else
   * changes: not the status, not updated_at). Returns the ids it updated.
   */
  touchOnline(ids: readonly number[], seenAt: number): Promise<number[]>;
  /**
   * Extends to `until` the leases of those `jobIds` that are this machine's and held
   * (claimed, running, cancel_requested); others are ignored. Returns the ids renewed.
   */
  renewLeases(machineId: number, jobIds: readonly number[], until: number): Promise<number[]>;
  /** Ids of this machine's cancel_requested jobs, ascending (a hot path: every heartbeat). */
  cancelRequestedJobIds(machineId: number): Promise<number[]>;
  /** Cancels every queued job of the machine; returns their ids. */
  cancelQueuedJobs(
    machineId: number,
    errorMessage: string,
    now: number,
    endedReason?: JobEndedReason,
  ): Promise<number[]>;
  /** Deletes the machine unless repositories still name it. */
  removeUnreferenced(id: number): Promise<MachineRemoval>;
}

export interface RepositoryStore {
  /** Undefined when the name is taken. */
  insert(repository: NewRepository): Promise<RepositoryRow | undefined>;
  /** Oldest first. */
  list(): Promise<RepositoryRow[]>;
  byId(id: number): Promise<RepositoryRow | undefined>;
  /** The sealed passphrase: null when none is stored, undefined when no such repository. */
  sealedPassphrase(id: number): Promise<string | null | undefined>;
  /** "name_taken" when a rename collides; undefined when there is no such repository. */
  update(
    id: number,
    patch: RepositoryPatch,
    now: number,
  ): Promise<RepositoryRow | undefined | "name_taken">;
  /** A finished backup's outcome, in one UPDATE (a success also clears overdue_since). */
  recordOutcome(id: number, outcome: RepositoryOutcome, now: number): Promise<void>;
  /**
   * The freshness sweep's transition into overdue, one guarded UPDATE: overdue_since →
   * `since` only while it is null and last_backup_at is still `lastBackupAt` (what the
   * sweep evaluated), so a success landing in between wins. Of racing sweeps (replicas)
   * exactly one gets the row back; the others, and a repository already overdue, get
   * undefined.
   */
  markOverdue(
    id: number,
    since: number,
    lastBackupAt: number | null,
    now: number,
  ): Promise<RepositoryRow | undefined>;
  /** Back from overdue without a success (interval or factor changed): only while overdue_since is `since`. */
  clearOverdue(id: number, since: number, now: number): Promise<RepositoryRow | undefined>;
  setArchives(id: number, archives: ArchiveInfo[], listedAt: number): Promise<void>;
  /**
   * Appends one new archive (a backup's) to a list that is known (listed, or empty since
   * init), in one atomic read-and-write; a list never read stays unknown, an archive
   * already in it is not added twice. True when the list changed.
   */
  addArchive(id: number, archive: ArchiveInfo, now: number): Promise<boolean>;
  /** The archives last listed ([] and null before any list); undefined when no such repository. */
  archives(id: number): Promise<RepositoryArchives | undefined>;
  /**
   * Deletes the repository unless one of its jobs is active (queued, claimed, running,
   * cancel_requested), in one guarded statement. Its plans go with it.
   */
  removeIfIdle(id: number): Promise<boolean>;
}

export interface RepositoryArchives {
  archives: ArchiveInfo[];
  listedAt: number | null;
}

/**
 * The job queue. Agent-side transitions take the agent's machine id and match only its
 * jobs; each is guarded by status and answers undefined when it did not apply.
 *   queued → claimed (claim) → running (start) → terminal (finish)
 *   queued → canceled (cancelQueued); claimed/running → cancel_requested (requestCancel)
 *   lease expired: claimed unstarted → queued; cancel_requested unstarted → canceled;
 *                  other held → failed (agent_lost)
 */
export interface JobStore {
  /**
   * Atomically queues a job and stores its payload (which names the new id). Undefined
   * when `exclusive` and the repository already has an active job of this kind.
   */
  insertQueued(job: NewJob, now: number): Promise<JobRow | undefined>;
  byId(id: number): Promise<JobRow | undefined>;
  /** Newest first; page with `before` = the smallest id of the previous page. */
  list(filter: JobListFilter): Promise<JobRow[]>;
  latestForRepository(repositoryId: number): Promise<JobRow | undefined>;
  /** The agent's queued jobs, oldest first (a hot path: every poll). */
  queuedFor(agentMachineId: number, limit: number): Promise<JobRow[]>;
  /**
   * The agents with at least one job in `status`, ascending (confirming in bulk what the
   * notifier remembers: services/trust-refresh.ts).
   */
  agentsWithJobsIn(status: JobStatus): Promise<number[]>;
  /** queued → claimed, for its own agent only; the lease runs until `leaseUntil`. */
  claim(
    id: number,
    agentMachineId: number,
    now: number,
    leaseUntil: number,
  ): Promise<JobRow | undefined>;
  /**
   * claimed → running; running and cancel_requested stay (a retried start, or a cancel
   * that came first). started_at is set once; the lease is renewed.
   */
  start(
    id: number,
    agentMachineId: number,
    now: number,
    leaseUntil: number,
  ): Promise<JobRow | undefined>;
  /** Renews a held job's lease; undefined when the job isn't held by this agent. */
  renewLease(
    id: number,
    agentMachineId: number,
    now: number,
    leaseUntil: number,
  ): Promise<JobRow | undefined>;
  /** Stores progress of a held job and renews its lease. */
  recordProgress(
    id: number,
    agentMachineId: number,
    progress: ProgressPatch,
    now: number,
    leaseUntil: number,
  ): Promise<JobRow | undefined>;
  /** Held → terminal, by its agent; clears the lease. */
  finish(
    id: number,
    agentMachineId: number,
    finish: JobFinish,
    now: number,
  ): Promise<JobRow | undefined>;
  /** A user's cancel of a job no agent holds yet: queued → canceled at once. */
  cancelQueued(id: number, now: number, endedReason?: JobEndedReason): Promise<JobRow | undefined>;
  /** A user's cancel of a held job: claimed/running → cancel_requested. */
  requestCancel(id: number, now: number): Promise<JobRow | undefined>;
  /** Claimed, never started, lease expired before `now`: back to queued for the same agent. */
  requeueExpired(now: number): Promise<JobRow[]>;
  /** cancel_requested, never started, lease expired: canceled (ended_reason canceled). */
  cancelExpiredUnstarted(now: number, message: string): Promise<JobRow[]>;
  /** Every other held job whose lease expired: failed with `message` (ended_reason agent_lost). */
  failExpired(now: number, message: string): Promise<JobRow[]>;
  /** Every held job's lease runs at least until `leaseUntil`; returns how many moved. */
  extendHeldLeases(now: number, leaseUntil: number): Promise<number>;
  /** Stores new log lines; a (job, sequence) already stored is skipped. Returns the new ones. */
  insertLogs(jobId: number, entries: JobLogRow[]): Promise<JobLogRow[]>;
  /** Log lines after `afterSequence`, in sequence order, at most `limit`. */
  logs(jobId: number, afterSequence: number, limit: number): Promise<JobLogRow[]>;
  /** The last `limit` log lines of a job, in sequence order (a notification's log tail). */
  logTail(jobId: number, limit: number): Promise<JobLogRow[]>;
}

export interface PlanStore {
  insert(plan: NewPlan, now: number): Promise<PlanRow>;
  /** Oldest first; only one repository's with `repositoryId`. */
  list(filter?: PlanListFilter): Promise<PlanRow[]>;
  byId(id: number): Promise<PlanRow | undefined>;
  update(id: number, patch: PlanPatch, now: number): Promise<PlanRow | undefined>;
  remove(id: number): Promise<boolean>;
  /**
   * The scheduler's claim of one due time, in one guarded UPDATE: last_run_at → `due`
   * only while the plan is enabled and its last_run_at is null or earlier than `due`.
   * Of racing claimers of one due time (hub replicas) exactly one gets the row back;
   * the others, and a claim of a time already acted on, get undefined.
   */
  claimDueRun(id: number, due: number, now: number): Promise<PlanRow | undefined>;
  /**
   * A plan's claim of its periodic compact or check, in one guarded UPDATE: its
   * last_compact_at / last_check_at → `now` only while it is null or at least
   * `intervalMs` before `now`. Of racing claimers exactly one gets the row back.
   */
  claimMaintenance(
    id: number,
    step: PlanMaintenanceStep,
    now: number,
    intervalMs: number,
  ): Promise<PlanRow | undefined>;
}

/** The maintenance a plan runs on a cadence after its backups (and prunes). */
export type PlanMaintenanceStep = "compact" | "check";

/**
 * Hub-wide values every process on the database must agree on (the secret key's check
 * value). Written once, at first start; never changed by the hub afterwards.
 */
export interface SettingsStore {
  get(key: string): Promise<string | undefined>;
  /** Stores `value` unless the key has one; returns what is stored (a racing first writer wins). */
  putIfAbsent(key: string, value: string, now: number): Promise<string>;
}

/** Aggregates for GET /metrics (services/metrics.ts), read fresh on every scrape. */
export interface MetricsStore {
  /** How many jobs of each kind are in each status (the whole history the hub keeps). */
  jobCounts(): Promise<JobCount[]>;
  /** Per repository, the original size of its newest backup that produced an archive. */
  latestBackupSizes(): Promise<{ repositoryId: number; originalBytes: number }[]>;
}

export interface JobCount {
  jobKind: string;
  status: string;
  count: number;
}

export interface Store {
  users: UserStore;
  sessions: SessionStore;
  apiTokens: ApiTokenStore;
  audit: AuditStore;
  enrollment: EnrollmentStore;
  machines: MachineStore;
  repositories: RepositoryStore;
  boxes: BoxStore;
  lentBoxKeys: LentBoxKeyStore;
  jobs: JobStore;
  plans: PlanStore;
  settings: SettingsStore;
  notifications: NotificationStore;
  archiveListings: ArchiveListingStore;
  metrics: MetricsStore;
  /**
   * Runs `work` in one transaction: its writes through `tx` land together when it
   * resolves and not at all when it throws (the error is rethrown). Inside, use `tx`
   * only: a call to the outer store would run outside the transaction, or (SQLite, one
   * connection) wait for it — the SQLite store throws instead. Keep the work short and
   * free of network calls: it holds the write lock. Others never see half of it (the
   * SQLite store runs transactions one at a time and holds other calls until commit).
   * Nested `tx.transaction` is a savepoint: its failure undoes only its own writes.
   */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
}

/** What opening a store gives its owner (the composition root or a test). */
export interface OpenedStore {
  store: Store;
  /** Migration tags applied by this open (empty when the schema was current). */
  applied: string[];
  close(): Promise<void>;
}
