/**
 * The hub's tables (drizzle sqlite-core): the SQLite store's half of records.ts.
 * Conventions, so a PostgreSQL store stays a swap:
 * - times are integer epoch milliseconds (UTC, `*_at`); services turn them into RFC 3339;
 * - secrets are never stored: tokens as SHA-256 hex hashes plus a short display prefix,
 *   passwords as argon2id hashes, repository passphrases AES-256-GCM encrypted;
 * - JSON columns hold small lists/maps that are always read whole (borg versions,
 *   capabilities, labels, paths, payloads, results, retention) and are parsed with the
 *   record schemas of records.ts when read.
 * Nothing outside src/server/db/sqlite imports this file.
 * A change here is followed by `bunx drizzle-kit generate --name <what>`: a NEW migration,
 * never an edit of an applied one (migrate.ts refuses a changed hash).
 */
import { sql } from "drizzle-orm";
import {
  check,
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

const now = sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`;
const createdAt = () => integer("created_at").notNull().default(now);
const updatedAt = () => integer("updated_at").notNull().default(now);

/** People who use the UI or API. role: admin | operator | viewer. */
export const users = sqliteTable("users", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  username: text("username").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  role: text("role").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Browser/API login sessions; the token is shown once at login, stored hashed. */
export const sessions = sqliteTable(
  "sessions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    tokenPrefix: text("token_prefix").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/** Long-lived API tokens of a user, with a role no higher than the user's. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    role: text("role").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    tokenPrefix: text("token_prefix").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_tokens_user_idx").on(t.userId)],
);

/** One-time, expiring tokens that let one machine register as an agent. */
export const enrollmentTokens = sqliteTable("enrollment_tokens", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  tokenPrefix: text("token_prefix").notNull(),
  createdByUserId: integer("created_by_user_id").references(() => users.id, {
    onDelete: "set null",
  }),
  expiresAt: integer("expires_at").notNull(),
  usedAt: integer("used_at"),
  usedByAgentMachineId: integer("used_by_agent_machine_id"),
  revokedAt: integer("revoked_at"),
  createdAt: createdAt(),
});

/**
 * Machines managed by an agent (the spec's AgentMachine). agent_id is the public,
 * stable identifier; the credential is stored hashed. status: pending | online |
 * offline | disabled | revoked.
 */
export const agentMachines = sqliteTable(
  "agent_machines",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    agentId: text("agent_id").notNull().unique(),
    tokenHash: text("token_hash").notNull().unique(),
    tokenPrefix: text("token_prefix").notNull(),
    hostname: text("hostname").notNull(),
    os: text("os").notNull(),
    arch: text("arch").notNull(),
    agentVersion: text("agent_version").notNull(),
    protocolVersion: integer("protocol_version").notNull(),
    borgVersions: text("borg_versions", { mode: "json" }).notNull().default(sql`'[]'`),
    capabilities: text("capabilities", { mode: "json" }).notNull().default(sql`'[]'`),
    labels: text("labels", { mode: "json" }).notNull().default(sql`'{}'`),
    sshPublicKey: text("ssh_public_key"),
    status: text("status").notNull(),
    lastSeenAt: integer("last_seen_at"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("agent_machines_status_idx").on(t.status, t.lastSeenAt)],
);

/**
 * Borg repositories. `location` is where the repo lives (any borg URL, as the agent sees
 * it); `execution_target` + `agent_machine_id` say where borg runs — the spec keeps the
 * two apart. The passphrase is AES-256-GCM encrypted (null when the agent keeps it:
 * passphrase_location = agent). Last listed archives are cached as JSON.
 */
export const repositories = sqliteTable(
  "repositories",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull().unique(),
    executionTarget: text("execution_target").notNull().default("agent"),
    agentMachineId: integer("agent_machine_id")
      .notNull()
      .references(() => agentMachines.id, { onDelete: "restrict" }),
    location: text("location").notNull(),
    boxId: integer("box_id"),
    borgVersion: integer("borg_version").notNull(),
    encryption: text("encryption").notNull(),
    passphraseEncrypted: text("passphrase_encrypted"),
    passphraseLocation: text("passphrase_location").notNull(),
    sourcePaths: text("source_paths", { mode: "json" }).notNull(),
    // Backed up when present on the machine, skipped with a warning when not.
    optionalSourcePaths: text("optional_source_paths", { mode: "json" })
      .notNull()
      .default(sql`'[]'`),
    excludePatterns: text("exclude_patterns", { mode: "json" }).notNull(),
    compression: text("compression").notNull(),
    archiveName: text("archive_name").notNull(),
    appendOnly: integer("append_only", { mode: "boolean" }).notNull().default(false),
    sshHostKey: text("ssh_host_key"),
    lastBackupAt: integer("last_backup_at"),
    lastResult: text("last_result"),
    lastJobId: integer("last_job_id"),
    // Freshness (services/freshness.ts): the hand-set expected interval (null: from the
    // plans), the overdue factor, failed backups since the last success, and when the
    // repository went overdue (stored by the sweep's guarded UPDATE, cleared by a success).
    expectedIntervalSeconds: integer("expected_interval_seconds"),
    overdueFactor: real("overdue_factor").notNull().default(1.5),
    failuresSinceSuccess: integer("failures_since_success").notNull().default(0),
    overdueSince: integer("overdue_since"),
    archives: text("archives", { mode: "json" }),
    archivesListedAt: integer("archives_listed_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("repositories_agent_idx").on(t.agentMachineId)],
);

/**
 * What a plan runs, when, and what it keeps (API.md, Plans). The scheduler (a later
 * issue) reads enabled plans; jobs it queues carry plan_id and scheduled_for.
 * last_job_id is a plain integer, like repositories.last_job_id: a reference back from
 * plans to jobs would make the two tables' foreign keys circular.
 */
export const plans = sqliteTable(
  "plans",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    schedule: text("schedule").notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    retention: text("retention", { mode: "json" }),
    pruneAfterBackup: integer("prune_after_backup", { mode: "boolean" }).notNull().default(true),
    compactEveryDays: integer("compact_every_days"),
    checkEveryDays: integer("check_every_days"),
    checkVerifyData: integer("check_verify_data", { mode: "boolean" }).notNull().default(false),
    missedRun: text("missed_run").notNull().default("run_once"),
    randomDelaySeconds: integer("random_delay_seconds").notNull().default(0),
    lastRunAt: integer("last_run_at"),
    lastJobId: integer("last_job_id"),
    lastCompactAt: integer("last_compact_at"),
    lastCheckAt: integer("last_check_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("plans_repository_idx").on(t.repositoryId)],
);

/**
 * Work for an agent (the spec's AgentJob) or, later, a storage box: `target` says which,
 * and the CHECK keeps the matching id present. `payload` holds the versioned job payload
 * WITHOUT secrets; the passphrase is added at claim time from the repository. Every
 * state change is one guarded UPDATE (WHERE id = ? AND status IN (…)). A claimed or
 * running job holds a lease (lease_expires_at) renewed by heartbeats and uploads.
 * Progress is denormalised into columns: it is overwritten often and read by lists.
 * ended_reason says why a finished job ended (records.ts JOB_ENDED_REASONS).
 */
export const jobs = sqliteTable(
  "jobs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    target: text("target").notNull().default("agent"),
    agentMachineId: integer("agent_machine_id").references(() => agentMachines.id, {
      onDelete: "cascade",
    }),
    boxId: integer("box_id"),
    repositoryId: integer("repository_id").references(() => repositories.id, {
      onDelete: "set null",
    }),
    planId: integer("plan_id").references(() => plans.id, { onDelete: "set null" }),
    jobKind: text("job_kind").notNull(),
    status: text("status").notNull(),
    payload: text("payload", { mode: "json" }).notNull(),
    result: text("result", { mode: "json" }),
    errorMessage: text("error_message"),
    endedReason: text("ended_reason"),
    returnCode: integer("return_code"),
    triggeredBy: text("triggered_by").notNull(),
    scheduledFor: integer("scheduled_for"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    claimedAt: integer("claimed_at"),
    startedAt: integer("started_at"),
    completedAt: integer("completed_at"),
    cancelRequestedAt: integer("cancel_requested_at"),
    leaseExpiresAt: integer("lease_expires_at"),
    progressPercent: real("progress_percent"),
    currentFile: text("current_file"),
    originalSize: integer("original_size"),
    compressedSize: integer("compressed_size"),
    deduplicatedSize: integer("deduplicated_size"),
    nfiles: integer("nfiles"),
    backupSpeed: real("backup_speed"),
    estimatedTimeRemaining: real("estimated_time_remaining"),
    phase: text("phase"),
    progressUpdatedAt: integer("progress_updated_at"),
  },
  (t) => [
    index("jobs_agent_status_idx").on(t.agentMachineId, t.status),
    index("jobs_repository_idx").on(t.repositoryId),
    index("jobs_lease_idx").on(t.status, t.leaseExpiresAt),
    index("jobs_plan_idx").on(t.planId, t.scheduledFor),
    // Unqualified names: the migration creates this table as __new_jobs and renames it.
    check(
      "jobs_target_check",
      sql.raw(
        "(target = 'agent' AND agent_machine_id IS NOT NULL) OR (target = 'box' AND box_id IS NOT NULL)",
      ),
    ),
  ],
);

/** Log lines of a job; (job_id, sequence) is unique, so re-uploads are ignored. */
export const jobLogs = sqliteTable(
  "job_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    jobId: integer("job_id")
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    sequence: integer("sequence").notNull(),
    stream: text("stream").notNull(),
    message: text("message").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("job_logs_job_sequence_idx").on(t.jobId, t.sequence)],
);

/**
 * Who did what, for admins: logins, token and enrollment changes, registrations, agent
 * status transitions, job claims and results. Never holds a token, passphrase or payload.
 */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull().default(now),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    ip: text("ip"),
    details: text("details", { mode: "json" }),
  },
  (t) => [index("audit_events_action_idx").on(t.action)],
);

/**
 * One row per hub-wide setting that every process on this database must agree on; today
 * the secret key's check value (a MAC of a fixed text under the secret key), written at
 * first start so a hub started with another key refuses to start.
 */
export const hubSettings = sqliteTable("hub_settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  createdAt: createdAt(),
});

/**
 * Storage boxes the hub manages (API.md, Storage boxes): the box's URL and bearer token
 * (AES-256-GCM sealed, like repository passphrases), how agents reach it over SSH, and
 * the facts of its last refresh (/info and /repos), kept whole as JSON where they are lists.
 * Repositories name their box in repositories.box_id; a box they name is not deleted.
 */
export const boxes = sqliteTable("boxes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  url: text("url").notNull(),
  tokenEncrypted: text("token_encrypted").notNull(),
  sshHost: text("ssh_host").notNull(),
  sshPort: integer("ssh_port").notNull(),
  sshUser: text("ssh_user").notNull(),
  status: text("status").notNull(),
  lastSeenAt: integer("last_seen_at"),
  lastError: text("last_error"),
  version: text("version"),
  borgVersion: text("borg_version"),
  freeBytes: integer("free_bytes"),
  totalBytes: integer("total_bytes"),
  repoCount: integer("repo_count"),
  sshHostKeys: text("ssh_host_keys", { mode: "json" }).notNull().default(sql`'[]'`),
  repos: text("repos", { mode: "json" }).notNull().default(sql`'[]'`),
  reposListedAt: integer("repos_listed_at"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * Where the hub sends notifications (API.md, Notifications). `config` holds the kind's
 * fields without secrets; `sealed_secret` the secret fields, encrypted (secret-box.ts).
 */
export const notificationChannels = sqliteTable("notification_channels", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  type: text("type").notNull(),
  config: text("config", { mode: "json" }).notNull(),
  sealedSecret: text("sealed_secret"),
  events: text("events", { mode: "json" }).notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  cooldownSeconds: integer("cooldown_seconds").notNull().default(3600),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * The notification outbox: one row per event and channel, written in the transaction
 * that publishes it and sent by services/notification-sender.ts. A sender claims a row
 * (status → sending, its own claim_token, claim_until) with one guarded UPDATE, so of
 * several hub replicas one sends it; a claim whose lease ran out (a crashed sender) is
 * claimable again. Every attempt is appended to attempt_log.
 */
export const notificationDeliveries = sqliteTable(
  "notification_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    channelId: integer("channel_id")
      .notNull()
      .references(() => notificationChannels.id, { onDelete: "cascade" }),
    event: text("event").notNull(),
    message: text("message", { mode: "json" }).notNull(),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    attemptLog: text("attempt_log", { mode: "json" }).notNull(),
    lastError: text("last_error"),
    nextAttemptAt: integer("next_attempt_at"),
    claimToken: text("claim_token"),
    claimUntil: integer("claim_until"),
    createdAt: createdAt(),
    sentAt: integer("sent_at"),
  },
  (t) => [
    index("notification_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("notification_deliveries_channel_idx").on(t.channelId, t.id),
  ],
);

/**
 * The re-notify cooldown: when a channel last got an event about one thing (`key`, e.g.
 * "repository.overdue:repository:4"). Taken with one guarded upsert, so two replicas
 * publishing the same overdue repository at once enqueue one delivery.
 */
export const notificationCooldowns = sqliteTable(
  "notification_cooldowns",
  {
    channelId: integer("channel_id")
      .notNull()
      .references(() => notificationChannels.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    lastAt: integer("last_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.key] })],
);

/**
 * The archive listing cache (archive.browse): one row per listing of an archive, built
 * while its job uploads chunks ("building") and served once the job completed ("ready").
 * Archives are immutable, so a ready listing is never refreshed, only evicted by size.
 */
export const archiveListings = sqliteTable(
  "archive_listings",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    archive: text("archive").notNull(),
    jobId: integer("job_id").notNull(),
    status: text("status").notNull(),
    entryCount: integer("entry_count").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at").notNull(),
  },
  (t) => [
    uniqueIndex("archive_listings_job_idx").on(t.jobId),
    index("archive_listings_archive_idx").on(t.repositoryId, t.archive),
    check("archive_listings_status_check", sql`${t.status} IN ('building', 'ready')`),
  ],
);

/** One member of a cached listing, keyed by its directory and name (one level per lookup). */
export const archiveListingEntries = sqliteTable(
  "archive_listing_entries",
  {
    listingId: integer("listing_id")
      .notNull()
      .references(() => archiveListings.id, { onDelete: "cascade" }),
    parent: text("parent").notNull(),
    name: text("name").notNull(),
    type: text("type").notNull(),
    size: integer("size").notNull(),
    mtime: text("mtime"),
    mode: text("mode"),
  },
  (t) => [primaryKey({ columns: [t.listingId, t.parent, t.name] })],
);

/** Keys lent on a box for one job (box-records.ts, LentBoxKeyRecord). */
export const lentBoxKeys = sqliteTable(
  "lent_box_keys",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    boxId: integer("box_id")
      .notNull()
      .references(() => boxes.id, { onDelete: "cascade" }),
    repoName: text("repo_name").notNull(),
    tag: text("tag").notNull(),
    jobId: integer("job_id"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("lent_box_keys_line_idx").on(t.boxId, t.repoName, t.tag),
    index("lent_box_keys_job_idx").on(t.jobId),
  ],
);
