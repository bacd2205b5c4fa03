/** Agent machines: identity, credential hash, reported facts, status. */
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { BorgBinary } from "../../../shared/protocol/agent.ts";
import type { Db } from "../client.ts";
import { agentMachines, jobs, repositories } from "../schema.ts";

export type MachineStatus = "pending" | "online" | "offline" | "disabled" | "revoked";

export interface MachineRow {
  id: number;
  name: string;
  agentId: string;
  tokenPrefix: string;
  hostname: string;
  os: string;
  arch: string;
  agentVersion: string;
  protocolVersion: number;
  borgVersions: BorgBinary[];
  capabilities: string[];
  labels: Record<string, string>;
  sshPublicKey: string | null;
  status: MachineStatus;
  lastSeenAt: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

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

export function machineQueries(db: Db) {
  // The agent runtime's hottest statements, prepared once: drizzle otherwise builds and
  // SQLite prepares them on every call (117 µs vs 4 µs per credential lookup, measured).
  const byTokenHash = db
    .select(columns)
    .from(agentMachines)
    .where(eq(agentMachines.tokenHash, sql.placeholder("tokenHash")))
    .prepare();
  const cancelRequested = db
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
    async insert(machine: NewMachine): Promise<MachineRow> {
      return db.insert(agentMachines).values(machine).returning(columns).get() as MachineRow;
    },
    async list(): Promise<MachineRow[]> {
      return db.select(columns).from(agentMachines).orderBy(agentMachines.id).all() as MachineRow[];
    },
    async byId(id: number): Promise<MachineRow | undefined> {
      return db.select(columns).from(agentMachines).where(eq(agentMachines.id, id)).get() as
        | MachineRow
        | undefined;
    },
    /** The machine a credential belongs to (any status: callers decide what a status allows). */
    async byTokenHash(tokenHash: string): Promise<MachineRow | undefined> {
      return byTokenHash.get({ tokenHash }) as MachineRow | undefined;
    },
    async update(id: number, patch: MachinePatch, now: number): Promise<MachineRow | undefined> {
      return db
        .update(agentMachines)
        .set({ ...patch, updatedAt: now })
        .where(eq(agentMachines.id, id))
        .returning(columns)
        .get() as MachineRow | undefined;
    },
    /** Guarded status change: only from one of `from`. Returns the row when it changed. */
    async transition(
      id: number,
      from: readonly MachineStatus[],
      to: MachineStatus,
      now: number,
    ): Promise<MachineRow | undefined> {
      return db
        .update(agentMachines)
        .set({ status: to, updatedAt: now })
        .where(and(eq(agentMachines.id, id), inArray(agentMachines.status, [...from])))
        .returning(columns)
        .get() as MachineRow | undefined;
    },
    /** Marks online machines not seen since `seenBefore` offline; returns them. */
    async markStaleOffline(seenBefore: number, now: number): Promise<MachineRow[]> {
      return db
        .update(agentMachines)
        .set({ status: "offline", updatedAt: now })
        .where(and(eq(agentMachines.status, "online"), lt(agentMachines.lastSeenAt, seenBefore)))
        .returning(columns)
        .all() as MachineRow[];
    },
    async remove(id: number): Promise<boolean> {
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
     * Records a heartbeat: the reported facts, last_seen_at, and status → online, but only
     * while the machine may act (pending/online/offline) — a disable that lands between
     * the credential check and this write wins. One IMMEDIATE transaction, so the status
     * read before the write is the one replaced. Undefined when the machine can't act.
     */
    async recordHeartbeat(
      id: number,
      facts: HeartbeatFacts,
      now: number,
    ): Promise<{ previousStatus: MachineStatus; machine: MachineRow } | undefined> {
      return db.transaction(
        (tx) => {
          const before = tx
            .select({ status: agentMachines.status })
            .from(agentMachines)
            .where(eq(agentMachines.id, id))
            .get();
          if (!before || !RUNTIME_STATUSES.includes(before.status as MachineStatus)) {
            return undefined;
          }
          const machine = tx
            .update(agentMachines)
            .set({ ...facts, status: "online", lastSeenAt: now, updatedAt: now })
            .where(
              and(eq(agentMachines.id, id), inArray(agentMachines.status, [...RUNTIME_STATUSES])),
            )
            .returning(columns)
            .get() as MachineRow | undefined;
          return machine && { previousStatus: before.status as MachineStatus, machine };
        },
        { behavior: "immediate" },
      );
    },
    /**
     * Extends the leases of those `jobIds` that belong to this machine and still hold one
     * (claimed, running, cancel_requested); ids of other agents' jobs are ignored.
     * Returns the ids renewed.
     */
    async renewLeases(
      machineId: number,
      jobIds: readonly number[],
      until: number,
    ): Promise<number[]> {
      if (jobIds.length === 0) return [];
      return db
        .update(jobs)
        .set({ leaseExpiresAt: until })
        .where(
          and(
            eq(jobs.agentMachineId, machineId),
            inArray(jobs.id, [...jobIds]),
            inArray(jobs.status, [...LEASED_JOB_STATUSES]),
          ),
        )
        .returning({ id: jobs.id })
        .all()
        .map((j) => j.id);
    },
    /** Ids of this machine's jobs the user asked to cancel (told to the agent on heartbeat). */
    async cancelRequestedJobIds(machineId: number): Promise<number[]> {
      return cancelRequested.all({ machineId }).map((j) => j.id);
    },
    /** Cancels every queued job of the machine (it will never claim them); returns their ids. */
    async cancelQueuedJobs(
      machineId: number,
      errorMessage: string,
      now: number,
    ): Promise<number[]> {
      return db
        .update(jobs)
        .set({ status: "canceled", errorMessage, completedAt: now, updatedAt: now })
        .where(and(eq(jobs.agentMachineId, machineId), eq(jobs.status, "queued")))
        .returning({ id: jobs.id })
        .all()
        .map((j) => j.id);
    },
    /**
     * Deletes the machine unless repositories still name it (their foreign key is ON
     * DELETE RESTRICT: SQLite refuses, and this says so instead of throwing).
     */
    async removeUnreferenced(id: number): Promise<MachineRemoval> {
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

/** The statuses in which a machine's credential may act (heartbeat, poll, uploads). */
export const RUNTIME_STATUSES: readonly MachineStatus[] = ["pending", "online", "offline"];

/** Job statuses that hold a lease the agent renews. */
const LEASED_JOB_STATUSES = ["claimed", "running", "cancel_requested"] as const;

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

/**
 * bun:sqlite's foreign key error, possibly wrapped by drizzle (DrizzleQueryError.cause).
 * An ON DELETE RESTRICT refusal comes as SQLITE_CONSTRAINT_TRIGGER, not _FOREIGNKEY (that
 * one is for checks at statement end), both with the message "FOREIGN KEY constraint failed".
 */
function isForeignKeyViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (
      (code === "SQLITE_CONSTRAINT_FOREIGNKEY" || code === "SQLITE_CONSTRAINT_TRIGGER") &&
      e.message.includes("FOREIGN KEY constraint failed")
    ) {
      return true;
    }
  }
  return false;
}
