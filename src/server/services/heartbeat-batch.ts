/**
 * Heartbeats that change nothing but last_seen_at, coalesced: written once a second for
 * all agents in one UPDATE (store.machines.touchOnline) instead of one write transaction
 * each. services/agents.ts recordHeartbeat decides; this module keeps what it needs.
 *
 * A heartbeat takes the quick path only when all of this holds, else the full one:
 * - this process recorded the same reported facts for the machine (hostname, versions,
 *   capabilities, key, labels, last error) in a full heartbeat less than
 *   HEARTBEAT_FACTS_TRUST_MS ago, and the machine was online then;
 * - it lists no running jobs (lease renewals are never deferred);
 * - nothing forgot the machine since: disable, revoke, rename/relabel, delete and the
 *   offline sweep call `forget` (services/machines.ts), as do flushes that find it not
 *   online any more.
 * The flush (every HEARTBEAT_FLUSH_MS while anything is pending, before each offline
 * sweep, and at shutdown) touches the online ones; a machine the UPDATE did not touch (a
 * sweep elsewhere marked it offline; disabled meanwhile) gets the full heartbeat it
 * deferred, status change and audit included, which a disabled one refuses. So an agent
 * is never left offline while it heartbeats, and last_seen_at lags by ≤ one flush, which
 * the offline sweep (2 min) and the UI (machines.ts overlays pending times) absorb.
 */
import type { HeartbeatFacts } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { SYSTEM } from "./actor.ts";
import { audit } from "./audit.ts";

export const HEARTBEAT_FLUSH_MS = 1_000;
/** How long facts recorded by a full heartbeat let later identical ones take the quick path. */
export const HEARTBEAT_FACTS_TRUST_MS = 5 * 60_000;
/** A bound on the facts map (one entry per agent); beyond it, forget and relearn. */
const MAX_KNOWN = 1_000_000;

interface Known {
  fingerprint: string;
  facts: HeartbeatFacts;
  recordedAt: number;
}

export class HeartbeatBatch {
  private readonly known = new Map<number, Known>();
  /** Machine → the earliest deferred heartbeat's time since the last flush. */
  private readonly pending = new Map<number, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> = Promise.resolve();

  /** True when this heartbeat may be deferred (and it is then recorded as pending). */
  defer(machineId: number, fingerprint: string, now: number, schedule: () => void): boolean {
    const known = this.known.get(machineId);
    if (!known || known.fingerprint !== fingerprint) return false;
    if (now - known.recordedAt >= HEARTBEAT_FACTS_TRUST_MS) return false;
    if (!this.pending.has(machineId)) this.pending.set(machineId, now);
    if (this.timer === undefined) {
      this.timer = setTimeout(schedule, HEARTBEAT_FLUSH_MS);
      this.timer.unref?.();
    }
    return true;
  }

  /** After a full heartbeat left the machine online with these facts. */
  recorded(machineId: number, fingerprint: string, facts: HeartbeatFacts, now: number): void {
    if (this.known.size >= MAX_KNOWN) this.known.clear();
    this.known.set(machineId, { fingerprint, facts, recordedAt: now });
  }

  forget(machineId: number): void {
    this.known.delete(machineId);
  }

  /** The deferred heartbeat time of a machine not yet written, if any (for reads). */
  pendingSeenAt(machineId: number): number | undefined {
    return this.pending.get(machineId);
  }

  /** Takes what is pending (the flush's batch) and the facts to replay a fallback with. */
  take(): { batch: Map<number, number>; factsOf: (id: number) => HeartbeatFacts | undefined } {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = new Map(this.pending);
    this.pending.clear();
    return { batch, factsOf: (id) => this.known.get(id)?.facts };
  }

  /** Serialises flushes: the next starts when the previous ended. */
  chain(flush: () => Promise<void>): Promise<void> {
    this.flushing = this.flushing.then(flush, flush);
    return this.flushing;
  }
}

/** The stable key of what a heartbeat reports (everything it would write). */
export function heartbeatFingerprint(facts: HeartbeatFacts, labels: unknown): string {
  return JSON.stringify([
    facts.hostname,
    facts.agentVersion,
    facts.protocolVersion,
    facts.borgVersions,
    facts.capabilities,
    facts.sshPublicKey,
    facts.lastError,
    labels,
  ]);
}

/**
 * Writes the deferred heartbeats: one UPDATE for those still online; a full heartbeat
 * (and its audit) for each that was not. Errors are logged, never thrown: a heartbeat
 * lost here costs nothing the agent's next one does not repair.
 */
export function flushHeartbeats(deps: HubDeps): Promise<void> {
  const batch = deps.heartbeats;
  return batch.chain(async () => {
    const { batch: pending, factsOf } = batch.take();
    if (pending.size === 0) return;
    try {
      let seenAt = Number.POSITIVE_INFINITY;
      for (const at of pending.values()) seenAt = Math.min(seenAt, at);
      const touched = new Set(await deps.store.machines.touchOnline([...pending.keys()], seenAt));
      for (const [machineId, at] of pending) {
        if (touched.has(machineId)) continue;
        batch.forget(machineId);
        const recorded = await deps.store.machines.recordHeartbeat(
          machineId,
          factsOf(machineId) ?? {},
          at,
        );
        if (recorded && recorded.previousStatus !== "online") {
          await audit(deps, {
            actor: SYSTEM,
            action: "agent.status",
            target: `machine:${machineId}`,
            details: { from: recorded.previousStatus, to: "online", deferred_heartbeat: true },
          });
        }
      }
    } catch (error) {
      deps.logger.child("agents").warn("could not record coalesced heartbeats", {
        machines: pending.size,
        error: (error as Error).message,
      });
    }
  });
}
