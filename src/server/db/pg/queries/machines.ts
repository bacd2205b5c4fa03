/** Agent machines on PostgreSQL (MachineStore): identity, credential hash, reported facts, status. */
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
import { FOREIGN_KEY_VIOLATION, sqlState } from "../errors.ts";
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

export function machineQueries(db: Db): MachineStore {
  return {
    async insert(machine) {
      const [row] = await db.insert(agentMachines).values(machine).returning(columns);
      return rowOf(row);
    },
    async list() {
      return parseRows(
        MachineRecord,
        TABLE,
        await db.select(columns).from(agentMachines).orderBy(agentMachines.id),
      );
    },
    async byId(id) {
      const [row] = await db.select(columns).from(agentMachines).where(eq(agentMachines.id, id));
      return maybeRow(row);
    },
    async byTokenHash(tokenHash) {
      const [row] = await db
        .select(columns)
        .from(agentMachines)
        .where(eq(agentMachines.tokenHash, tokenHash));
      return maybeRow(row);
    },
    async credentials(ids) {
      if (ids.length === 0) return [];
      return parseRows(
        MachineCredentialRecord,
        TABLE,
        await db
          .select(credentialColumns)
          .from(agentMachines)
          .where(inArray(agentMachines.id, [...ids])),
      );
    },
    async update(id, patch, now) {
      const [row] = await db
        .update(agentMachines)
        .set({ ...patch, updatedAt: now })
        .where(eq(agentMachines.id, id))
        .returning(columns);
      return maybeRow(row);
    },
    async transition(id, from, to, now) {
      const [row] = await db
        .update(agentMachines)
        .set({ status: to, updatedAt: now })
        .where(and(eq(agentMachines.id, id), inArray(agentMachines.status, [...from])))
        .returning(columns);
      return maybeRow(row);
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
        await db
          .update(agentMachines)
          .set({ status: "offline", updatedAt: now })
          .where(and(stale, batch))
          .returning(columns),
      );
    },
    async remove(id) {
      const rows = await db
        .delete(agentMachines)
        .where(eq(agentMachines.id, id))
        .returning({ id: agentMachines.id });
      return rows.length > 0;
    },

    /**
     * The row is locked (FOR UPDATE) before the write, so the status read is the one
     * replaced: a disable committed in between makes this wait, then refuse.
     */
    async recordHeartbeat(id, facts, now) {
      return db.transaction(async (tx) => {
        const [before] = await tx
          .select({ status: agentMachines.status })
          .from(agentMachines)
          .where(eq(agentMachines.id, id))
          .for("update");
        if (!before) return undefined;
        const previousStatus = MachineStatus.parse(before.status);
        if (!RUNTIME_STATUSES.includes(previousStatus)) return undefined;
        const [row] = await tx
          .update(agentMachines)
          .set({ ...facts, status: "online", lastSeenAt: now, updatedAt: now })
          .where(
            and(eq(agentMachines.id, id), inArray(agentMachines.status, [...RUNTIME_STATUSES])),
          )
          .returning(columns);
        const machine = maybeRow(row);
        return machine && { previousStatus, machine };
      });
    },
    async touchOnline(ids, seenAt) {
      if (ids.length === 0) return [];
      const rows = await db
        .update(agentMachines)
        .set({ lastSeenAt: sql`greatest(coalesce(${agentMachines.lastSeenAt}, 0), ${seenAt})` })
        .where(and(inArray(agentMachines.id, [...ids]), eq(agentMachines.status, "online")))
        .returning({ id: agentMachines.id });
      return rows.map((r) => r.id);
    },
    async renewLeases(machineId, jobIds, until) {
      if (jobIds.length === 0) return [];
      const rows = await db
        .update(jobs)
        .set({ leaseExpiresAt: until })
        .where(
          and(
            eq(jobs.agentMachineId, machineId),
            inArray(jobs.id, [...jobIds]),
            inArray(jobs.status, [...HELD_JOB_STATUSES]),
          ),
        )
        .returning({ id: jobs.id });
      return rows.map((j) => j.id).sort((a, b) => a - b);
    },
    async cancelRequestedJobIds(machineId) {
      const rows = await db
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.agentMachineId, machineId), eq(jobs.status, "cancel_requested")))
        .orderBy(jobs.id);
      return rows.map((j) => j.id);
    },
    async cancelQueuedJobs(machineId, errorMessage, now, endedReason) {
      const rows = await db
        .update(jobs)
        .set({
          status: "canceled",
          errorMessage,
          endedReason: endedReason ?? null,
          completedAt: now,
          updatedAt: now,
        })
        .where(and(eq(jobs.agentMachineId, machineId), eq(jobs.status, "queued")))
        .returning({ id: jobs.id });
      return rows.map((j) => j.id).sort((a, b) => a - b);
    },
    /**
     * Repositories' foreign key is ON DELETE RESTRICT. The delete runs in a savepoint: in
     * PostgreSQL a failed statement aborts the whole transaction around it, and this
     * refusal is an answer, not a failure of the caller's transaction.
     */
    async removeUnreferenced(id) {
      try {
        const removed = await db.transaction((tx) =>
          tx
            .delete(agentMachines)
            .where(eq(agentMachines.id, id))
            .returning({ id: agentMachines.id }),
        );
        return { outcome: removed.length > 0 ? "removed" : "not_found" };
      } catch (error) {
        if (sqlState(error) !== FOREIGN_KEY_VIOLATION) throw error;
        const [row] = await db
          .select({ n: sql<number>`count(*)::int` })
          .from(repositories)
          .where(eq(repositories.agentMachineId, id));
        return { outcome: "referenced", repositories: row?.n ?? 0 };
      }
    },
  };
}
