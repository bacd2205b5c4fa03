/**
 * The agent credentials this hub process has verified, in memory: token hash → the
 * machine it belongs to, for machines that may act (pending/online/offline). Every agent
 * request is authenticated here first, so a fleet's steady polls and heartbeats do not
 * look their credential up in the database each time.
 *
 * Invalidation: whatever takes a machine's right to act away or changes what the entry
 * holds (disable, revoke, unregister, delete, rename) calls `invalidate(machineId)` right
 * after its write, before it answers: the next request with that credential is looked up
 * again and refused. Replicas on PostgreSQL relay each invalidation over LISTEN/NOTIFY
 * (db/pg/credential-signals.ts), so another replica refuses it as soon as the NOTIFY
 * arrives (milliseconds after the commit); after a LISTEN reconnect everything is
 * forgotten. A lookup that ran while any invalidation happened is not remembered (its
 * ticket says so), so a read racing a revoke can't put the old status back. Entries are
 * trusted for CREDENTIAL_TRUST_MS at most, a bound for changes made outside this hub (a
 * second hub process on one SQLite file, a hand edit, a NOTIFY that was lost); the
 * periodic sweep verifies the older ones again in bulk before that
 * (services/trust-refresh.ts), so a busy fleet's requests never wait for a lookup of
 * their own.
 * The map holds at most MAX_CREDENTIALS entries, the least recently verified go first.
 */

import { type MachineRow, RUNTIME_STATUSES } from "../db/records.ts";
import { type AgentDialect, agentDialect } from "./agent-dialect.ts";

/** What a verified credential says about its machine. */
export interface VerifiedAgent {
  machineId: number;
  agentId: string;
  name: string;
  /** From the capabilities it registered with (services/agent-dialect.ts). */
  dialect: AgentDialect;
}

/** What a credential of this machine may be remembered as; undefined when it may not act. */
export function verifiedAgentOf(
  machine: Pick<MachineRow, "id" | "agentId" | "name" | "status" | "capabilities">,
): VerifiedAgent | undefined {
  if (!RUNTIME_STATUSES.includes(machine.status)) return undefined;
  return {
    machineId: machine.id,
    agentId: machine.agentId,
    name: machine.name,
    dialect: agentDialect(machine.capabilities),
  };
}

export interface AgentCredentials {
  /** The machine of a credential verified recently and not invalidated since (read only). */
  get(tokenHash: string): VerifiedAgent | undefined;
  /** Take before a database lookup; hand to remember with what it found. */
  ticket(): number;
  /** Remembers a machine that may act; ignored when anything was invalidated since `ticket`. */
  remember(tokenHash: string, agent: VerifiedAgent, ticket: number): void;
  /** Forgets the machine's credential(s) here and, replica-aware, on every replica. */
  invalidate(machineId: number): void;
  /** Forgets everything (a LISTEN reconnect). */
  invalidateAll(): void;
  /**
   * The credentials verified longer than `ms` ago, to be verified again in bulk before
   * their trust runs out (services/trust-refresh.ts): hash and machine id each.
   */
  verifiedLongerThan(ms: number): { tokenHash: string; machineId: number }[];
  readonly size: number;
}

export const CREDENTIAL_TRUST_MS = 30_000;
export const MAX_CREDENTIALS = 200_000;

/** Flat, one object per credential: a fleet holds one per agent. */
interface Entry extends VerifiedAgent {
  /** When it was verified (performance.now()). */
  at: number;
}

export class InMemoryAgentCredentials implements AgentCredentials {
  private readonly byHash = new Map<string, Entry>();
  /** Machine → its credential's hash (a machine has one credential). */
  private readonly hashOf = new Map<number, string>();
  private invalidations = 0;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly maxEntries = MAX_CREDENTIALS,
  ) {}

  get(tokenHash: string): VerifiedAgent | undefined {
    const entry = this.byHash.get(tokenHash);
    if (!entry) return undefined;
    if (this.now() - entry.at >= CREDENTIAL_TRUST_MS) {
      this.forget(tokenHash, entry.machineId);
      return undefined;
    }
    return entry;
  }

  ticket(): number {
    return this.invalidations;
  }

  remember(tokenHash: string, agent: VerifiedAgent, ticket: number): void {
    if (ticket !== this.invalidations) return;
    const previous = this.byHash.get(tokenHash);
    if (previous) this.forget(tokenHash, previous.machineId);
    while (this.byHash.size >= this.maxEntries) {
      const [oldest] = this.byHash;
      if (!oldest) break;
      this.forget(oldest[0], oldest[1].machineId);
    }
    const { machineId, agentId, name, dialect } = agent;
    const replaced = this.hashOf.get(machineId);
    if (replaced !== undefined) this.byHash.delete(replaced);
    this.byHash.set(tokenHash, { machineId, agentId, name, dialect, at: this.now() });
    this.hashOf.set(machineId, tokenHash);
  }

  invalidate(machineId: number): void {
    this.invalidations++;
    const hash = this.hashOf.get(machineId);
    if (hash !== undefined) this.byHash.delete(hash);
    this.hashOf.delete(machineId);
  }

  invalidateAll(): void {
    this.invalidations++;
    this.byHash.clear();
    this.hashOf.clear();
  }

  verifiedLongerThan(ms: number): { tokenHash: string; machineId: number }[] {
    const before = this.now() - ms;
    const due: { tokenHash: string; machineId: number }[] = [];
    for (const [tokenHash, entry] of this.byHash) {
      if (entry.at <= before) due.push({ tokenHash, machineId: entry.machineId });
    }
    return due;
  }

  get size(): number {
    return this.byHash.size;
  }

  private forget(tokenHash: string, machineId: number): void {
    this.byHash.delete(tokenHash);
    if (this.hashOf.get(machineId) === tokenHash) this.hashOf.delete(machineId);
  }
}
