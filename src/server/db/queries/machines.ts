/** Agent machines: identity, credential hash, reported facts, status. */
import { and, eq, inArray, lt } from "drizzle-orm";
import type { BorgBinary } from "../../../shared/protocol/agent.ts";
import type { Db } from "../client.ts";
import { agentMachines } from "../schema.ts";

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
      return db
        .select(columns)
        .from(agentMachines)
        .where(eq(agentMachines.tokenHash, tokenHash))
        .get() as MachineRow | undefined;
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
  };
}
