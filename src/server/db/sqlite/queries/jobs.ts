/**
 * The job queue on SQLite (JobStore). Every state change is one guarded UPDATE (`WHERE
 * id = ? AND agent_machine_id = ? AND status IN (…)`) returning the changed row, so of
 * two racing callers exactly one gets a row back and the other learns it lost. `payload`
 * holds the versioned job payload WITHOUT secrets; the claim adds the passphrase.
 * Log lines live in job-logs.ts and are part of the same query object.
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
import { jobs } from "../schema.ts";
import { jobLogQueries } from "./job-logs.ts";

const TABLE = "jobs";
const rowOf = (raw: unknown): JobRow => parseRow(JobRecord, TABLE, raw);
const rowsOf = (raw: readonly unknown[]): JobRow[] => parseRows(JobRecord, TABLE, raw);
const maybeRow = (raw: unknown): JobRow | undefined => parseMaybe(JobRecord, TABLE, raw);

const owned = (id: number, agentMachineId: number) =>
  and(eq(jobs.id, id), eq(jobs.agentMachineId, agentMachineId));
const held = inArray(jobs.status, [...HELD_JOB_STATUSES]);

/** `read`: the connection for the hot reads (a read-only one outside transactions). */
export function jobQueries(db: Db, read: Db = db): JobStore {
  // Every poll runs this; prepared once (see machines.ts for the measured difference).
  const queuedFor = read
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
    async insertQueued(job, now) {
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

    async byId(id) {
      return maybeRow(db.select().from(jobs).where(eq(jobs.id, id)).get());
    },

    async list(filter) {
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

    async latestForRepository(repositoryId) {
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

    async queuedFor(agentMachineId, limit) {
      return rowsOf(queuedFor.all({ agentMachineId, limit }));
    },

    async agentsWithJobsIn(status) {
      return read
        .selectDistinct({ agentMachineId: jobs.agentMachineId })
        .from(jobs)
        .where(eq(jobs.status, status))
        .orderBy(asc(jobs.agentMachineId))
        .all()
        .flatMap((j) => (j.agentMachineId === null ? [] : [j.agentMachineId]));
    },

    async claim(id, agentMachineId, now, leaseUntil) {
      return maybeRow(
        db
          .update(jobs)
          .set({ status: "claimed", claimedAt: now, leaseExpiresAt: leaseUntil, updatedAt: now })
          .where(and(owned(id, agentMachineId), eq(jobs.status, "queued")))
          .returning()
          .get(),
      );
    },

    async start(id, agentMachineId, now, leaseUntil) {
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

    async renewLease(id, agentMachineId, now, leaseUntil) {
      return maybeRow(
        db
          .update(jobs)
          .set({ leaseExpiresAt: leaseUntil, updatedAt: now })
          .where(and(owned(id, agentMachineId), held))
          .returning()
          .get(),
      );
    },

    async recordProgress(id, agentMachineId, progress, now, leaseUntil) {
      return maybeRow(
        db
          .update(jobs)
          .set({ ...progress, progressUpdatedAt: now, leaseExpiresAt: leaseUntil, updatedAt: now })
          .where(and(owned(id, agentMachineId), held))
          .returning()
          .get(),
      );
    },

    async finish(id, agentMachineId, finish, now) {
      return maybeRow(
        db
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
          .returning()
          .get(),
      );
    },

    async cancelQueued(id, now, endedReason?: JobEndedReason) {
      return maybeRow(
        db
          .update(jobs)
          .set({
            status: "canceled",
            cancelRequestedAt: now,
            completedAt: now,
            endedReason: endedReason ?? null,
            updatedAt: now,
          })
          .where(and(eq(jobs.id, id), eq(jobs.status, "queued")))
          .returning()
          .get(),
      );
    },

    async requestCancel(id, now) {
      return maybeRow(
        db
          .update(jobs)
          .set({ status: "cancel_requested", cancelRequestedAt: now, updatedAt: now })
          .where(and(eq(jobs.id, id), inArray(jobs.status, ["claimed", "running"])))
          .returning()
          .get(),
      );
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
      return db
        .update(jobs)
        .set({ leaseExpiresAt: leaseUntil, updatedAt: now })
        .where(and(held, lt(jobs.leaseExpiresAt, leaseUntil)))
        .returning({ id: jobs.id })
        .all().length;
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
