/**
 * Keeps what this hub process trusts from memory fresh in bulk, so that a fleet's steady
 * requests never pay for a lookup of their own: the verified agent credentials
 * (deps.credentials, trusted CREDENTIAL_TRUST_MS) and the agents known to have no queued
 * job or no cancel request (deps.notifier, trusted IDLE_TRUST_MS). Both bounds exist for
 * changes this process may not hear of (a hand edit, a lost NOTIFY, a second hub process
 * on one SQLite file); without this, every entry ran out and its agent's next request
 * looked it up alone: at 10,000 agents, half of all heartbeats and polls read a
 * credential from the database.
 *
 * Run by the periodic sweep (services/sweeps.ts, every 15 s) on every hub process, since
 * what it refreshes is the process's own memory. Read-only. An entry is renewed only from
 * what the database says now, and only through the guards its cache already has (a
 * credential ticket voided by any invalidation meanwhile; a notifier ticket voided by a
 * notify): a machine disabled or revoked by any route is never renewed, and its entry
 * runs out as before. An agent remembered idle that has queued work, or free of cancel
 * requests that has one (a wake-up was lost), is notified: its open poll is answered at
 * once, and its next heartbeat looks its cancel requests up.
 */
import type { HubDeps } from "../deps.ts";
import { CREDENTIAL_TRUST_MS, verifiedAgentOf } from "./agent-credentials.ts";
import { IDLE_TRUST_MS, WATCHED_STATUSES } from "./job-notifier.ts";

/**
 * Entries older than a third of their trust are renewed: with the sweep every 15 s, a
 * credential is at most ~25 s old of its 30 and what the notifier knows ~35 s of its 60.
 */
const CREDENTIAL_RENEW_AFTER_MS = CREDENTIAL_TRUST_MS / 3;
const IDLE_RENEW_AFTER_MS = IDLE_TRUST_MS / 3;
/** Machines per credential query; the event loop is given back between chunks. */
const CREDENTIAL_CHUNK = 500;

export async function refreshTrustedMemory(deps: HubDeps): Promise<void> {
  await refreshCredentials(deps);
  await confirmKnownNone(deps);
}

/** Verifies again, by machine id and in chunks, the credentials remembered longest. */
async function refreshCredentials(deps: HubDeps): Promise<void> {
  const due = deps.credentials.verifiedLongerThan(CREDENTIAL_RENEW_AFTER_MS);
  for (let start = 0; start < due.length; start += CREDENTIAL_CHUNK) {
    if (start > 0) await yieldToEventLoop();
    const chunk = due.slice(start, start + CREDENTIAL_CHUNK);
    const ticket = deps.credentials.ticket();
    const found = await deps.store.machines.credentials(chunk.map((d) => d.machineId));
    const current = new Map(found.map((row) => [row.id, row]));
    for (const { tokenHash, machineId } of chunk) {
      const row = current.get(machineId);
      // Gone, another credential, or no longer allowed to act: left to run out.
      if (!row || row.tokenHash !== tokenHash) continue;
      const verified = verifiedAgentOf(row);
      if (verified) deps.credentials.remember(tokenHash, verified, ticket);
    }
  }
}

/**
 * Confirms, per watched status, the agents remembered longest to have no such job, with
 * one query for the whole table each; one that has one after all is notified.
 */
async function confirmKnownNone(deps: HubDeps): Promise<void> {
  const { notifier } = deps;
  for (const status of WATCHED_STATUSES) {
    const due = notifier.noneLongerThan(status, IDLE_RENEW_AFTER_MS);
    if (due.length === 0) continue;
    const tickets = due.map((agentMachineId) => notifier.lookupTicket(agentMachineId));
    const withSome = new Set(await deps.store.jobs.agentsWithJobsIn(status));
    due.forEach((agentMachineId, i) => {
      if (withSome.has(agentMachineId)) notifier.notify(agentMachineId);
      else notifier.recordNone(agentMachineId, status, tickets[i] as number);
    });
  }
}

/** Lets pending I/O (requests) run: the SQLite store answers synchronously. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
