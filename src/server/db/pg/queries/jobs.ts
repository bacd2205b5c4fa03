/**
 * The job queue on PostgreSQL (JobStore). Every state change is one guarded UPDATE
 * (`WHERE id = ? AND agent_machine_id = ? AND status IN (…)`) returning the changed row.
 * Under READ COMMITTED a second updater of the same row waits for the first to commit
 * and then re-evaluates its WHERE against the new row, so of racing callers on any
 * number of connections or replicas exactly one gets a row back. Claims name their job
 * (the agent picks from queuedFor), so no SKIP LOCKED picking is needed: a claim that
 * loses waits only for the winner's one-row commit.
 */
import { and, asc, desc, eq, inArray, isNull, lt, type SQL, sql } from "drizzle-orm";
import { parseMaybe, parseRow, parseRows } from "../../parse.ts";
import {
  ACTIVE_JOB_STATUSES,
  HELD_JOB_STATUSES,
  type JobEndedReason,
  JobRecord,
  type JobRow,
} from "../../records.ts";
import type { JobStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { jobs, repositories } from "../schema.ts";
import { jobLogQueries } from "./job-logs.ts";

const TABLE = "jobs";
const rowOf = (raw: unknown): JobRow => parseRow(JobRecord, TABLE, raw);
const rowsOf = (raw: readonly unknown[]): JobRow[] => parseRows(JobRecord, TABLE, raw);
const maybeRow = (raw: unknown): JobRow | undefined => parseMaybe(JobRecord, TABLE, raw);
const byId = (a: JobRow, b: JobRow) => a.id - b.id;

const owned = (id: number, agentMachineId: number) =>
  and(eq(jobs.id, id), eq(jobs.agentMachineId, agentMachineId));
const held = inArray(jobs.status, [...HELD_JOB_STATUSES]);

export function jobQueries(db: Db): JobStore {
  /** One guarded UPDATE for jobs matching `condition` whose lease ran out before `now`. */
  const expireLeases = async (
    set: Partial<typeof jobs.$inferInsert>,
    condition: SQL | undefined,
    now: number,
  ): Promise<JobRow[]> =>
    rowsOf(
      await db
        .update(jobs)
        .set({ ...set, leaseExpiresAt: null, updatedAt: now })
        .where(and(condition, lt(jobs.leaseExpiresAt, now)))
        .returning(),
    ).sort(byId);
  return {
    /**
     * Locks the repository row first: two replicas queueing an exclusive job for one
     * repository take turns, so the second sees the first's job (READ COMMITTED gives
     * each statement a fresh snapshot) and refuses; removeIfIdle takes the same lock.
     */
    async insertQueued(job, now) {
      return db.transaction(async (tx) => {
        await tx
          .select({ id: repositories.id })
          .from(repositories)
          .where(eq(repositories.id, job.repositoryId))
          .for("update");
        if (job.exclusive) {
          const [busy] = await tx
            .select({ id: jobs.id })
            .from(jobs)
            .where(
              and(
                eq(jobs.repositoryId, job.repositoryId),
                eq(jobs.jobKind, job.jobKind),
                inArray(jobs.status, [...ACTIVE_JOB_STATUSES]),
              ),
            )
            .limit(1);
          if (busy) return undefined;
        }
        const [inserted] = await tx
          .insert(jobs)
          .values({
            target: "agent",
            agentMachineId: job.agentMachineId,
            repositoryId: job.repositoryId,
            planId: job.planId ?? null,
            scheduledFor: job.scheduledFor ?? null,
            jobKind: job.jobKind,
            status: "queued",
            payload: {},
            triggeredBy: job.triggeredBy,
            createdAt: now,
            updatedAt: now,
          })
          .returning({ id: jobs.id });
        if (!inserted) throw new Error("job insert returned no row");
        const [row] = await tx
          .update(jobs)
          .set({ payload: job.payloadFor(inserted.id) })
          .where(eq(jobs.id, inserted.id))
          .returning();
        return rowOf(row);
      });
    },

    async byId(id) {
      const [row] = await db.select().from(jobs).where(eq(jobs.id, id));
      return maybeRow(row);
    },

    async list(filter) {
      return rowsOf(
        await db
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
          .limit(filter.limit),
      );
    },

    async latestForRepository(repositoryId) {
      const [row] = await db
        .select()
        .from(jobs)
        .where(eq(jobs.repositoryId, repositoryId))
        .orderBy(desc(jobs.id))
        .limit(1);
      return maybeRow(row);
    },

    async queuedFor(agentMachineId, limit) {
      return rowsOf(
        await db
          .select()
          .from(jobs)
          .where(and(eq(jobs.agentMachineId, agentMachineId), eq(jobs.status, "queued")))
          .orderBy(asc(jobs.id))
          .limit(limit),
      );
    },

    async agentsWithJobsIn(status) {
      const rows = await db
        .selectDistinct({ agentMachineId: jobs.agentMachineId })
        .from(jobs)
        .where(eq(jobs.status, status))
        .orderBy(asc(jobs.agentMachineId));
      return rows.flatMap((j) => (j.agentMachineId === null ? [] : [j.agentMachineId]));
    },

    async claim(id, agentMachineId, now, leaseUntil) {
      const [row] = await db
        .update(jobs)
        .set({ status: "claimed", claimedAt: now, leaseExpiresAt: leaseUntil, updatedAt: now })
        .where(and(owned(id, agentMachineId), eq(jobs.status, "queued")))
        .returning();
      return maybeRow(row);
    },

    async start(id, agentMachineId, now, leaseUntil) {
      const [row] = await db
        .update(jobs)
        .set({
          status: sql`CASE WHEN ${jobs.status} = 'claimed' THEN 'running' ELSE ${jobs.status} END`,
          startedAt: sql`COALESCE(${jobs.startedAt}, ${now}::bigint)`,
          leaseExpiresAt: leaseUntil,
          updatedAt: now,
        })
        .where(and(owned(id, agentMachineId), held))
        .returning();
      return maybeRow(row);
    },

    async renewLease(id, agentMachineId, now, leaseUntil) {
      const [row] = await db
        .update(jobs)
        .set({ leaseExpiresAt: leaseUntil, updatedAt: now })
        .where(and(owned(id, agentMachineId), held))
        .returning();
      return maybeRow(row);
    },

    async recordProgress(id, agentMachineId, progress, now, leaseUntil) {
      const [row] = await db
        .update(jobs)
        .set({ ...progress, progressUpdatedAt: now, leaseExpiresAt: leaseUntil, updatedAt: now })
        .where(and(owned(id, agentMachineId), held))
        .returning();
      return maybeRow(row);
    },

    async finish(id, agentMachineId, finish, now) {
      const [row] = await db
        .update(jobs)
        .set({
          status: finish.status,
          result: finish.result ?? null,
          errorMessage: finish.errorMessage ?? null,
          returnCode: finish.returnCode ?? null,
          endedReason: finish.endedReason ?? null,
          completedAt: now,
          leaseExpiresAt: null,
          updatedAt: now,
        })
        .where(and(owned(id, agentMachineId), held))
        .returning();
      return maybeRow(row);
    },

    async cancelQueued(id, now, endedReason?: JobEndedReason) {
      const [row] = await db
        .update(jobs)
        .set({
          status: "canceled",
          cancelRequestedAt: now,
          completedAt: now,
          endedReason: endedReason ?? null,
          updatedAt: now,
        })
        .where(and(eq(jobs.id, id), eq(jobs.status, "queued")))
        .returning();
      return maybeRow(row);
    },

    async requestCancel(id, now) {
      const [row] = await db
        .update(jobs)
        .set({ status: "cancel_requested", cancelRequestedAt: now, updatedAt: now })
        .where(and(eq(jobs.id, id), inArray(jobs.status, ["claimed", "running"])))
        .returning();
      return maybeRow(row);
    },

    async requeueExpired(now) {
      return expireLeases(
        { status: "queued", claimedAt: null, endedReason: null },
        and(eq(jobs.status, "claimed"), isNull(jobs.startedAt)),
        now,
      );
    },

    async cancelExpiredUnstarted(now, message) {
      return expireLeases(
        { status: "canceled", errorMessage: message, endedReason: "canceled", completedAt: now },
        and(eq(jobs.status, "cancel_requested"), isNull(jobs.startedAt)),
        now,
      );
    },

    async extendHeldLeases(now, leaseUntil) {
      const rows = await db
        .update(jobs)
        .set({ leaseExpiresAt: leaseUntil, updatedAt: now })
        .where(and(held, lt(jobs.leaseExpiresAt, leaseUntil)))
        .returning({ id: jobs.id });
      return rows.length;
    },

    async failExpired(now, message) {
      return expireLeases(
        { status: "failed", errorMessage: message, endedReason: "agent_lost", completedAt: now },
        held,
        now,
      );
    },
    ...jobLogQueries(db),
  };
}
