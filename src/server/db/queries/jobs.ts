/**
 * The job queue and job logs. Every state change is one guarded UPDATE (`WHERE id = ?
 * AND agent_machine_id = ? AND status IN (…)`) returning the changed row, so of two
 * racing callers exactly one gets a row back and the other learns it lost. `payload`
 * holds the versioned job payload WITHOUT secrets; the claim adds the passphrase.
 * Log lines live in job-logs.ts and are part of the same query object.
 */
import { and, asc, desc, eq, inArray, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { JobKind, JobPayload, JobStatus } from "../../../shared/protocol/agent.ts";
import type { Db } from "../client.ts";
import { jobs } from "../schema.ts";
import { jobLogQueries } from "./job-logs.ts";

/** Not finished: counts against "one backup at a time" and blocks deleting the repository. */
export const ACTIVE_JOB_STATUSES = ["queued", "claimed", "running", "cancel_requested"] as const;
/** Held by an agent under a lease. */
export const HELD_JOB_STATUSES = ["claimed", "running", "cancel_requested"] as const;

export interface StoredJobResult {
  archive_name?: string;
  stats?: {
    original_size: number;
    compressed_size: number;
    deduplicated_size: number;
    nfiles: number;
  };
  warnings?: string[];
  archive_count?: number;
}

export interface JobProgressColumns {
  progressPercent: number | null;
  currentFile: string | null;
  originalSize: number | null;
  compressedSize: number | null;
  deduplicatedSize: number | null;
  nfiles: number | null;
  backupSpeed: number | null;
  estimatedTimeRemaining: number | null;
  phase: string | null;
  progressUpdatedAt: number | null;
}

export interface JobRow extends JobProgressColumns {
  id: number;
  agentMachineId: number;
  repositoryId: number | null;
  jobKind: JobKind;
  status: JobStatus;
  /** The payload as queued: no secrets. */
  payload: JobPayload;
  result: StoredJobResult | null;
  errorMessage: string | null;
  returnCode: number | null;
  triggeredBy: string;
  createdAt: number;
  updatedAt: number;
  claimedAt: number | null;
  startedAt: number | null;
  completedAt: number | null;
  cancelRequestedAt: number | null;
  leaseExpiresAt: number | null;
}

export interface NewJob {
  agentMachineId: number;
  repositoryId: number;
  jobKind: JobKind;
  triggeredBy: string;
  /** Builds the payload once the job id is known (the payload carries it). */
  payloadFor: (jobId: number) => JobPayload;
  /** Refuse when the repository already has an active job of this kind. */
  exclusive: boolean;
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
}

/** A progress upload: undefined keeps the stored value, null clears it. */
export type ProgressPatch = Partial<Omit<JobProgressColumns, "progressUpdatedAt">>;

const rowOf = (raw: typeof jobs.$inferSelect): JobRow => raw as unknown as JobRow;
const rowsOf = (raw: (typeof jobs.$inferSelect)[]): JobRow[] => raw.map(rowOf);
const maybeRow = (raw: typeof jobs.$inferSelect | undefined) => (raw ? rowOf(raw) : undefined);

const owned = (id: number, agentMachineId: number) =>
  and(eq(jobs.id, id), eq(jobs.agentMachineId, agentMachineId));
const held = inArray(jobs.status, [...HELD_JOB_STATUSES]);

export function jobQueries(db: Db) {
  // Every poll runs this; prepared once (see machines.ts for the measured difference).
  const queuedFor = db
    .select()
    .from(jobs)
    .where(
      and(eq(jobs.agentMachineId, sql.placeholder("agentMachineId")), eq(jobs.status, "queued")),
    )
    .orderBy(asc(jobs.id))
    .limit(sql.placeholder("limit"))
    .prepare();
  /** One guarded UPDATE for jobs matching `condition` whose lease ran out before `now`. */
  const expireLeases = (
    set: Partial<typeof jobs.$inferInsert>,
    condition: SQL | undefined,
    now: number,
  ): JobRow[] =>
    rowsOf(
      db
        .update(jobs)
        .set({ ...set, leaseExpiresAt: null, updatedAt: now })
        .where(and(condition, lt(jobs.leaseExpiresAt, now)))
        .returning()
        .all(),
    );
  return {
    /**
     * Queues a job and stores its payload (which names the new id) in one IMMEDIATE
     * transaction; undefined when `exclusive` and the repository already has an active
     * job of that kind.
     */
    async insertQueued(job: NewJob, now: number): Promise<JobRow | undefined> {
      return db.transaction(
        (tx) => {
          if (job.exclusive) {
            const busy = tx
              .select({ id: jobs.id })
              .from(jobs)
              .where(
                and(
                  eq(jobs.repositoryId, job.repositoryId),
                  eq(jobs.jobKind, job.jobKind),
                  inArray(jobs.status, [...ACTIVE_JOB_STATUSES]),
                ),
              )
              .get();
            if (busy) return undefined;
          }
          const { id } = tx
            .insert(jobs)
            .values({
              agentMachineId: job.agentMachineId,
              repositoryId: job.repositoryId,
              jobKind: job.jobKind,
              status: "queued",
              payload: {},
              triggeredBy: job.triggeredBy,
              createdAt: now,
              updatedAt: now,
            })
            .returning({ id: jobs.id })
            .get();
          return rowOf(
            tx
              .update(jobs)
              .set({ payload: job.payloadFor(id) })
              .where(eq(jobs.id, id))
              .returning()
              .get(),
          );
        },
        { behavior: "immediate" },
      );
    },

    async byId(id: number): Promise<JobRow | undefined> {
      return maybeRow(db.select().from(jobs).where(eq(jobs.id, id)).get());
    },

    async list(filter: JobListFilter): Promise<JobRow[]> {
      return rowsOf(
        db
          .select()
          .from(jobs)
          .where(
            and(
              filter.repositoryId === undefined
                ? undefined
                : eq(jobs.repositoryId, filter.repositoryId),
              filter.agentMachineId === undefined
                ? undefined
                : eq(jobs.agentMachineId, filter.agentMachineId),
              filter.status === undefined ? undefined : eq(jobs.status, filter.status),
              filter.before === undefined ? undefined : lt(jobs.id, filter.before),
            ),
          )
          .orderBy(desc(jobs.id))
          .limit(filter.limit)
          .all(),
      );
    },

    async latestForRepository(repositoryId: number): Promise<JobRow | undefined> {
      return maybeRow(
        db
          .select()
          .from(jobs)
          .where(eq(jobs.repositoryId, repositoryId))
          .orderBy(desc(jobs.id))
          .limit(1)
          .get(),
      );
    },

    /** An agent's queued jobs, oldest first. */
    async queuedFor(agentMachineId: number, limit: number): Promise<JobRow[]> {
      return rowsOf(queuedFor.all({ agentMachineId, limit }));
    },

    /** queued → claimed, for its own agent only. */
    async claim(
      id: number,
      agentMachineId: number,
      now: number,
      leaseUntil: number,
    ): Promise<JobRow | undefined> {
      return maybeRow(
        db
          .update(jobs)
          .set({ status: "claimed", claimedAt: now, leaseExpiresAt: leaseUntil, updatedAt: now })
          .where(and(owned(id, agentMachineId), eq(jobs.status, "queued")))
          .returning()
          .get(),
      );
    },

    /**
     * claimed → running; running and cancel_requested stay as they are (a retried start,
     * or a cancel that came first). started_at is set once; the lease is renewed.
     */
    async start(
      id: number,
      agentMachineId: number,
      now: number,
      leaseUntil: number,
    ): Promise<JobRow | undefined> {
      return maybeRow(
        db
          .update(jobs)
          .set({
            status: sql`CASE WHEN ${jobs.status} = 'claimed' THEN 'running' ELSE ${jobs.status} END`,
            startedAt: sql`COALESCE(${jobs.startedAt}, ${now})`,
            leaseExpiresAt: leaseUntil,
            updatedAt: now,
          })
          .where(and(owned(id, agentMachineId), held))
          .returning()
          .get(),
      );
    },

    /** Renews a held job's lease; undefined when the job isn't held by this agent. */
    async renewLease(
      id: number,
      agentMachineId: number,
      now: number,
      leaseUntil: number,
    ): Promise<JobRow | undefined> {
      return maybeRow(
        db
          .update(jobs)
          .set({ leaseExpiresAt: leaseUntil, updatedAt: now })
          .where(and(owned(id, agentMachineId), held))
          .returning()
          .get(),
      );
    },

    async recordProgress(
      id: number,
      agentMachineId: number,
      progress: ProgressPatch,
      now: number,
      leaseUntil: number,
    ): Promise<JobRow | undefined> {
      return maybeRow(
        db
          .update(jobs)
          .set({ ...progress, progressUpdatedAt: now, leaseExpiresAt: leaseUntil, updatedAt: now })
          .where(and(owned(id, agentMachineId), held))
          .returning()
          .get(),
      );
    },

    /** Held → terminal, by its agent. */
    async finish(
      id: number,
      agentMachineId: number,
      finish: JobFinish,
      now: number,
    ): Promise<JobRow | undefined> {
      return maybeRow(
        db
          .update(jobs)
          .set({
            status: finish.status,
            result: finish.result ?? null,
            errorMessage: finish.errorMessage ?? null,
            returnCode: finish.returnCode ?? null,
            completedAt: now,
            leaseExpiresAt: null,
            updatedAt: now,
          })
          .where(and(owned(id, agentMachineId), held))
          .returning()
          .get(),
      );
    },

    /** A user's cancel of a job no agent holds yet: queued → canceled at once. */
    async cancelQueued(id: number, now: number): Promise<JobRow | undefined> {
      return maybeRow(
        db
          .update(jobs)
          .set({
            status: "canceled",
            cancelRequestedAt: now,
            completedAt: now,
            updatedAt: now,
          })
          .where(and(eq(jobs.id, id), eq(jobs.status, "queued")))
          .returning()
          .get(),
      );
    },

    /** A user's cancel of a held job: claimed/running → cancel_requested; the agent stops it. */
    async requestCancel(id: number, now: number): Promise<JobRow | undefined> {
      return maybeRow(
        db
          .update(jobs)
          .set({ status: "cancel_requested", cancelRequestedAt: now, updatedAt: now })
          .where(and(eq(jobs.id, id), inArray(jobs.status, ["claimed", "running"])))
          .returning()
          .get(),
      );
    },

    /** Claimed but never started, lease expired: back to the queue for the same agent. */
    async requeueExpired(now: number): Promise<JobRow[]> {
      return expireLeases(
        { status: "queued", claimedAt: null },
        and(eq(jobs.status, "claimed"), isNull(jobs.startedAt)),
        now,
      );
    },

    /** Cancel requested before borg ever started, lease expired: nothing ran, so canceled. */
    async cancelExpiredUnstarted(now: number, message: string): Promise<JobRow[]> {
      return expireLeases(
        { status: "canceled", errorMessage: message, completedAt: now },
        and(eq(jobs.status, "cancel_requested"), isNull(jobs.startedAt)),
        now,
      );
    },

    /**
     * Every held job's lease runs at least until `leaseUntil`; returns how many moved.
     * For a hub that was not answering: its agents could not renew, so their leases
     * cannot be held against them.
     */
    async extendHeldLeases(now: number, leaseUntil: number): Promise<number> {
      return db
        .update(jobs)
        .set({ leaseExpiresAt: leaseUntil, updatedAt: now })
        .where(and(held, lt(jobs.leaseExpiresAt, leaseUntil)))
        .returning({ id: jobs.id })
        .all().length;
    },

    /** Any other held job whose lease expired: failed with `message`. */
    async failExpired(now: number, message: string): Promise<JobRow[]> {
      return expireLeases({ status: "failed", errorMessage: message, completedAt: now }, held, now);
    },
    ...jobLogQueries(db),
  };
}
