/** Agent machines on SQLite (MachineStore): identity, credential hash, reported facts, status. */
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { parseMaybe, parseRow, parseRows } from "../../parse.ts";
import {
  HELD_JOB_STATUSES,
  MachineCredentialRecord,
  MachineRecord,
  type MachineRow,
  MachineStatus,
  RUNTIME_STATUSES,
} from "../../records.ts";
import type { MachineStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { agentMachines, jobs, repositories } from "../schema.ts";

const TABLE = "agent_machines";
const rowOf = (raw: unknown): MachineRow => parseRow(MachineRecord, TABLE, raw);
const maybeRow = (raw: unknown): MachineRow | undefined => parseMaybe(MachineRecord, TABLE, raw);

const columns = {
  id: agentMachines.id,
  name: agentMachines.name,
  agentId: agentMachines.agentId,
  tokenPrefix: agentMachines.tokenPrefix,
  hostname: agentMachines.hostname,
  os: agentMachines.os,
  arch: agentMachines.arch,
  agentVersion: agentMachines.agentVersion,
  protocolVersion: agentMachines.protocolVersion,
  borgVersions: agentMachines.borgVersions,
  capabilities: agentMachines.capabilities,
  labels: agentMachines.labels,
  sshPublicKey: agentMachines.sshPublicKey,
  status: agentMachines.status,
  lastSeenAt: agentMachines.lastSeenAt,
  lastError: agentMachines.lastError,
  createdAt: agentMachines.createdAt,
  updatedAt: agentMachines.updatedAt,
};

const credentialColumns = {
  id: agentMachines.id,
  agentId: agentMachines.agentId,
  name: agentMachines.name,
  status: agentMachines.status,
  capabilities: agentMachines.capabilities,
  tokenHash: agentMachines.tokenHash,
};

/** `read`: the connection for the hot reads (a read-only one outside transactions). */
export function machineQueries(db: Db, read: Db = db): MachineStore {
  // The agent runtime's hottest statements, prepared once: drizzle otherwise builds and
  // SQLite prepares them on every call (117 µs vs 4 µs per credential lookup, measured).
  const byTokenHash = read
    .select(columns)
    .from(agentMachines)
    .where(eq(agentMachines.tokenHash, sql.placeholder("tokenHash")))
    .prepare();
  const cancelRequested = read
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        eq(jobs.agentMachineId, sql.placeholder("machineId")),
        eq(jobs.status, "cancel_requested"),
      ),
    )
    .orderBy(jobs.id)
    .prepare();
  return {
    async insert(machine) {
      return rowOf(db.insert(agentMachines).values(machine).returning(columns).get());
    },
    async list() {
      return parseRows(
        MachineRecord,
        TABLE,
        db.select(columns).from(agentMachines).orderBy(agentMachines.id).all(),
      );
    },
    async byId(id) {
      return maybeRow(db.select(columns).from(agentMachines).where(eq(agentMachines.id, id)).get());
    },
    async byTokenHash(tokenHash) {
      return maybeRow(byTokenHash.get({ tokenHash }));
    },
    async credentials(ids) {
      if (ids.length === 0) return [];
      return parseRows(
        MachineCredentialRecord,
        TABLE,
        read
          .select(credentialColumns)
          .from(agentMachines)
          .where(inArray(agentMachines.id, [...ids]))
          .all(),
      );
    },
    async update(id, patch, now) {
      return maybeRow(
        db
          .update(agentMachines)
          .set({ ...patch, updatedAt: now })
          .where(eq(agentMachines.id, id))
          .returning(columns)
          .get(),
      );
    },
    async transition(id, from, to, now) {
      return maybeRow(
        db
          .update(agentMachines)
          .set({ status: to, updatedAt: now })
          .where(and(eq(agentMachines.id, id), inArray(agentMachines.status, [...from])))
          .returning(columns)
          .get(),
      );
    },
    async markStaleOffline(seenBefore, now, limit) {
      const stale = and(
        eq(agentMachines.status, "online"),
        lt(agentMachines.lastSeenAt, seenBefore),
      );
      // The batch: its lowest ids, chosen by the same condition the UPDATE re-checks.
      const batch =
        limit === undefined
          ? stale
          : inArray(
              agentMachines.id,
              db
                .select({ id: agentMachines.id })
                .from(agentMachines)
                .where(stale)
                .orderBy(agentMachines.id)
                .limit(limit),
            );
      return parseRows(
        MachineRecord,
        TABLE,
        db
          .update(agentMachines)
          .set({ status: "offline", updatedAt: now })
          .where(and(stale, batch))
          .returning(columns)
          .all(),
      );
    },
    async remove(id) {
      return (
        db
          .delete(agentMachines)
          .where(eq(agentMachines.id, id))
          .returning({ id: agentMachines.id })
          .all().length > 0
      );
    },

    // --- agent runtime and admin actions (heartbeat, leases, revoke, delete) ----------

    /**
     * One IMMEDIATE transaction (a savepoint inside store.transaction), so the status read
     * before the write is the one replaced.
     */
    async recordHeartbeat(id, facts, now) {
      return db.transaction(
        (tx) => {
          const before = tx
            .select({ status: agentMachines.status })
            .from(agentMachines)
            .where(eq(agentMachines.id, id))
            .get();
          if (!before) return undefined;
          const previousStatus = MachineStatus.parse(before.status);
          if (!RUNTIME_STATUSES.includes(previousStatus)) return undefined;
          const machine = maybeRow(
            tx
              .update(agentMachines)
              .set({ ...facts, status: "online", lastSeenAt: now, updatedAt: now })
              .where(
                and(eq(agentMachines.id, id), inArray(agentMachines.status, [...RUNTIME_STATUSES])),
              )
              .returning(columns)
              .get(),
          );
          return machine && { previousStatus, machine };
        },
        { behavior: "immediate" },
      );
    },
    async touchOnline(ids, seenAt) {
      if (ids.length === 0) return [];
      const rows = db
        .update(agentMachines)
        .set({ lastSeenAt: sql`max(coalesce(${agentMachines.lastSeenAt}, 0), ${seenAt})` })
        .where(and(inArray(agentMachines.id, [...ids]), eq(agentMachines.status, "online")))
        .returning({ id: agentMachines.id })
        .all();
      return rows.map((r) => r.id);
    },
    async renewLeases(machineId, jobIds, until) {
      if (jobIds.length === 0) return [];
      return db
        .update(jobs)
        .set({ leaseExpiresAt: until })
        .where(
          and(
            eq(jobs.agentMachineId, machineId),
            inArray(jobs.id, [...jobIds]),
            inArray(jobs.status, [...HELD_JOB_STATUSES]),
          ),
        )
        .returning({ id: jobs.id })
        .all()
        .map((j) => j.id);
    },
    async cancelRequestedJobIds(machineId) {
      return cancelRequested.all({ machineId }).map((j) => j.id);
    },
    async cancelQueuedJobs(machineId, errorMessage, now, endedReason) {
      return db
        .update(jobs)
        .set({
          status: "canceled",
          errorMessage,
          endedReason: endedReason ?? null,
          completedAt: now,
          updatedAt: now,
        })
        .where(and(eq(jobs.agentMachineId, machineId), eq(jobs.status, "queued")))
        .returning({ id: jobs.id })
        .all()
        .map((j) => j.id);
    },
    /**
     * Repositories' foreign key is ON DELETE RESTRICT: SQLite refuses, and this says so
     * instead of throwing.
     */
    async removeUnreferenced(id) {
      try {
        const removed = db
          .delete(agentMachines)
          .where(eq(agentMachines.id, id))
          .returning({ id: agentMachines.id })
          .all();
        return { outcome: removed.length > 0 ? "removed" : "not_found" };
      } catch (error) {
        if (!isForeignKeyViolation(error)) throw error;
        const repositoryCount =
          db
            .select({ n: sql<number>`count(*)` })
            .from(repositories)
            .where(eq(repositories.agentMachineId, id))
            .get()?.n ?? 0;
        return { outcome: "referenced", repositories: repositoryCount };
      }
    },
  };
}

/**
 * bun:sqlite's foreign key error, possibly wrapped by drizzle (DrizzleQueryError.cause).
 * An ON DELETE RESTRICT refusal comes as SQLITE_CONSTRAINT_TRIGGER, not _FOREIGNKEY (that
 * one is for checks at statement end), both with the message "FOREIGN KEY constraint failed".
 */
function isForeignKeyViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = "code" in e ? e.code : undefined;
    if (
      (code === "SQLITE_CONSTRAINT_FOREIGNKEY" || code === "SQLITE_CONSTRAINT_TRIGGER") &&
      e.message.includes("FOREIGN KEY constraint failed")
    ) {
      return true;
    }
  }
  return false;
}
