/**
 * The hub's tables (drizzle pg-core): the PostgreSQL store's half of records.ts, column
 * for column the same as sqlite/schema.ts (test/unit/server/db/schema-parity.test.ts
 * holds both to the records). Differences are the dialect's only:
 * - times are bigint epoch milliseconds (read as JS numbers: ms fit in 2^53);
 * - JSON columns are jsonb, booleans are boolean, progress reals are double precision;
 * - ids are identity columns.
 * Nothing outside src/server/db/pg imports this file.
 * A change here is followed by `bunx drizzle-kit generate --config drizzle.pg.config.ts
 * --name <what>`: a NEW migration, never an edit of an applied one (migrate.ts refuses a
 * changed hash).
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const now = sql`((extract(epoch from clock_timestamp()) * 1000)::bigint)`;
const ms = (name: string) => bigint(name, { mode: "number" });
const id = () => integer("id").primaryKey().generatedByDefaultAsIdentity();
const createdAt = () => ms("created_at").notNull().default(now);
const updatedAt = () => ms("updated_at").notNull().default(now);

/** People who use the UI or API. role: admin | operator | viewer. */
export const users = pgTable("users", {
  id: id(),
  username: text("username").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  role: text("role").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const sessions = pgTable(
  "sessions",
  {
    id: id(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    tokenPrefix: text("token_prefix").notNull(),
    createdAt: createdAt(),
    expiresAt: ms("expires_at").notNull(),
    lastUsedAt: ms("last_used_at"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiTokens = pgTable(
  "api_tokens",
  {
    id: id(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    role: text("role").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    tokenPrefix: text("token_prefix").notNull(),
    createdAt: createdAt(),
    expiresAt: ms("expires_at"),
    lastUsedAt: ms("last_used_at"),
    revokedAt: ms("revoked_at"),
  },
  (t) => [index("api_tokens_user_idx").on(t.userId)],
);

export const enrollmentTokens = pgTable("enrollment_tokens", {
  id: id(),
  name: text("name").notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  tokenPrefix: text("token_prefix").notNull(),
  createdByUserId: integer("created_by_user_id").references(() => users.id, {
    onDelete: "set null",
  }),
  expiresAt: ms("expires_at").notNull(),
  usedAt: ms("used_at"),
  usedByAgentMachineId: integer("used_by_agent_machine_id"),
  revokedAt: ms("revoked_at"),
  createdAt: createdAt(),
});

export const agentMachines = pgTable(
  "agent_machines",
  {
    id: id(),
    name: text("name").notNull(),
    agentId: text("agent_id").notNull().unique(),
    tokenHash: text("token_hash").notNull().unique(),
    tokenPrefix: text("token_prefix").notNull(),
    hostname: text("hostname").notNull(),
    os: text("os").notNull(),
    arch: text("arch").notNull(),
    agentVersion: text("agent_version").notNull(),
    protocolVersion: integer("protocol_version").notNull(),
    borgVersions: jsonb("borg_versions").notNull().default(sql`'[]'::jsonb`),
    capabilities: jsonb("capabilities").notNull().default(sql`'[]'::jsonb`),
    labels: jsonb("labels").notNull().default(sql`'{}'::jsonb`),
    sshPublicKey: text("ssh_public_key"),
    status: text("status").notNull(),
    lastSeenAt: ms("last_seen_at"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("agent_machines_status_idx").on(t.status, t.lastSeenAt)],
);

export const repositories = pgTable(
  "repositories",
  {
    id: id(),
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
    sourcePaths: jsonb("source_paths").notNull(),
    // Backed up when present on the machine, skipped with a warning when not.
    optionalSourcePaths: jsonb("optional_source_paths").notNull().default(sql`'[]'::jsonb`),
    excludePatterns: jsonb("exclude_patterns").notNull(),
    compression: text("compression").notNull(),
    archiveName: text("archive_name").notNull(),
    appendOnly: boolean("append_only").notNull().default(false),
    sshHostKey: text("ssh_host_key"),
    lastBackupAt: ms("last_backup_at"),
    lastResult: text("last_result"),
    lastJobId: integer("last_job_id"),
    // Freshness: see sqlite/schema.ts.
    expectedIntervalSeconds: integer("expected_interval_seconds"),
    overdueFactor: doublePrecision("overdue_factor").notNull().default(1.5),
    failuresSinceSuccess: integer("failures_since_success").notNull().default(0),
    overdueSince: ms("overdue_since"),
    archives: jsonb("archives"),
    archivesListedAt: ms("archives_listed_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("repositories_agent_idx").on(t.agentMachineId)],
);

export const plans = pgTable(
  "plans",
  {
    id: id(),
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    schedule: text("schedule").notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    enabled: boolean("enabled").notNull().default(true),
    retention: jsonb("retention"),
    pruneAfterBackup: boolean("prune_after_backup").notNull().default(true),
    compactEveryDays: integer("compact_every_days"),
    checkEveryDays: integer("check_every_days"),
    checkVerifyData: boolean("check_verify_data").notNull().default(false),
    missedRun: text("missed_run").notNull().default("run_once"),
    randomDelaySeconds: integer("random_delay_seconds").notNull().default(0),
    lastRunAt: ms("last_run_at"),
    lastJobId: integer("last_job_id"),
    lastCompactAt: ms("last_compact_at"),
    lastCheckAt: ms("last_check_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("plans_repository_idx").on(t.repositoryId)],
);

export const jobs = pgTable(
  "jobs",
  {
    id: id(),
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
    payload: jsonb("payload").notNull(),
    result: jsonb("result"),
    errorMessage: text("error_message"),
    endedReason: text("ended_reason"),
    returnCode: integer("return_code"),
    triggeredBy: text("triggered_by").notNull(),
    scheduledFor: ms("scheduled_for"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    claimedAt: ms("claimed_at"),
    startedAt: ms("started_at"),
    completedAt: ms("completed_at"),
    cancelRequestedAt: ms("cancel_requested_at"),
    leaseExpiresAt: ms("lease_expires_at"),
    progressPercent: doublePrecision("progress_percent"),
    currentFile: text("current_file"),
    originalSize: ms("original_size"),
    compressedSize: ms("compressed_size"),
    deduplicatedSize: ms("deduplicated_size"),
    nfiles: ms("nfiles"),
    backupSpeed: doublePrecision("backup_speed"),
    estimatedTimeRemaining: doublePrecision("estimated_time_remaining"),
    phase: text("phase"),
    progressUpdatedAt: ms("progress_updated_at"),
  },
  (t) => [
    index("jobs_agent_status_idx").on(t.agentMachineId, t.status),
    index("jobs_repository_idx").on(t.repositoryId),
    index("jobs_lease_idx").on(t.status, t.leaseExpiresAt),
    index("jobs_plan_idx").on(t.planId, t.scheduledFor),
    check(
      "jobs_target_check",
      sql.raw(
        "(target = 'agent' AND agent_machine_id IS NOT NULL) OR (target = 'box' AND box_id IS NOT NULL)",
      ),
    ),
  ],
);

export const jobLogs = pgTable(
  "job_logs",
  {
    id: id(),
    jobId: integer("job_id")
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    sequence: integer("sequence").notNull(),
    stream: text("stream").notNull(),
    message: text("message").notNull(),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [uniqueIndex("job_logs_job_sequence_idx").on(t.jobId, t.sequence)],
);

export const auditEvents = pgTable(
  "audit_events",
  {
    id: id(),
    at: ms("at").notNull().default(now),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    ip: text("ip"),
    details: jsonb("details"),
  },
  (t) => [index("audit_events_action_idx").on(t.action)],
);

/**
 * One row per hub-wide setting that replicas must agree on; today the secret key's check
 * value (a MAC of a fixed text under BORGCTL_SECRET_KEY), written at first start.
 */
export const hubSettings = pgTable("hub_settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  createdAt: createdAt(),
});

/** Storage boxes (sqlite/schema.ts says what each column holds). */
export const boxes = pgTable("boxes", {
  id: id(),
  name: text("name").notNull().unique(),
  url: text("url").notNull(),
  tokenEncrypted: text("token_encrypted").notNull(),
  sshHost: text("ssh_host").notNull(),
  sshPort: integer("ssh_port").notNull(),
  sshUser: text("ssh_user").notNull(),
  status: text("status").notNull(),
  lastSeenAt: ms("last_seen_at"),
  lastError: text("last_error"),
  version: text("version"),
  borgVersion: text("borg_version"),
  freeBytes: ms("free_bytes"),
  totalBytes: ms("total_bytes"),
  repoCount: integer("repo_count"),
  sshHostKeys: jsonb("ssh_host_keys").notNull().default(sql`'[]'::jsonb`),
  repos: jsonb("repos").notNull().default(sql`'[]'::jsonb`),
  reposListedAt: ms("repos_listed_at"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});
/** Where the hub sends notifications; secrets sealed in sealed_secret (sqlite/schema.ts). */
export const notificationChannels = pgTable("notification_channels", {
  id: id(),
  name: text("name").notNull().unique(),
  type: text("type").notNull(),
  config: jsonb("config").notNull(),
  sealedSecret: text("sealed_secret"),
  events: jsonb("events").notNull(),
  enabled: boolean("enabled").notNull().default(true),
  cooldownSeconds: integer("cooldown_seconds").notNull().default(3600),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** The notification outbox; claimed with guarded UPDATEs (sqlite/schema.ts says how). */
export const notificationDeliveries = pgTable(
  "notification_deliveries",
  {
    id: id(),
    channelId: integer("channel_id")
      .notNull()
      .references(() => notificationChannels.id, { onDelete: "cascade" }),
    event: text("event").notNull(),
    message: jsonb("message").notNull(),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    attemptLog: jsonb("attempt_log").notNull(),
    lastError: text("last_error"),
    nextAttemptAt: ms("next_attempt_at"),
    claimToken: text("claim_token"),
    claimUntil: ms("claim_until"),
    createdAt: createdAt(),
    sentAt: ms("sent_at"),
  },
  (t) => [
    index("notification_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("notification_deliveries_channel_idx").on(t.channelId, t.id),
  ],
);

/** The re-notify cooldown per channel and subject, taken with one guarded upsert. */
export const notificationCooldowns = pgTable(
  "notification_cooldowns",
  {
    channelId: integer("channel_id")
      .notNull()
      .references(() => notificationChannels.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    lastAt: ms("last_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.key] })],
);

/** The archive listing cache (archive.browse); see sqlite/schema.ts. */
export const archiveListings = pgTable(
  "archive_listings",
  {
    id: id(),
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    archive: text("archive").notNull(),
    jobId: integer("job_id").notNull(),
    status: text("status").notNull(),
    entryCount: integer("entry_count").notNull().default(0),
    createdAt: ms("created_at").notNull(),
    lastUsedAt: ms("last_used_at").notNull(),
  },
  (t) => [
    uniqueIndex("archive_listings_job_idx").on(t.jobId),
    index("archive_listings_archive_idx").on(t.repositoryId, t.archive),
    check("archive_listings_status_check", sql`${t.status} IN ('building', 'ready')`),
  ],
);

/** One member of a cached listing, keyed by its directory and name. */
export const archiveListingEntries = pgTable(
  "archive_listing_entries",
  {
    listingId: integer("listing_id")
      .notNull()
      .references(() => archiveListings.id, { onDelete: "cascade" }),
    parent: text("parent").notNull(),
    name: text("name").notNull(),
    type: text("type").notNull(),
    size: ms("size").notNull(),
    mtime: text("mtime"),
    mode: text("mode"),
  },
  (t) => [primaryKey({ columns: [t.listingId, t.parent, t.name] })],
);

/** Keys lent on a box for one job (box-records.ts, LentBoxKeyRecord). */
export const lentBoxKeys = pgTable(
  "lent_box_keys",
  {
    id: id(),
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
