/**
 * The hub's periodic upkeep, run by start.ts every 15 s: expired sessions are deleted,
 * silent agents marked offline, jobs whose lease ran out failed or requeued, and
 * repositories that went without a successful backup for too long marked overdue, and keys
 * lent on boxes for jobs that are over taken back.
 * Each sweep is a guarded UPDATE, so running it twice (or from two processes) is harmless.
 * Last, this process's remembered credentials and idle agents are verified again in bulk
 * (services/trust-refresh.ts; read-only, and per process by nature).
 */
import type { HubDeps } from "../deps.ts";
import { sweepFreshness } from "./freshness.ts";
import { sweepExpiredLeases } from "./job-sweeper.ts";
import { sweepLentKeys } from "./lent-box-keys.ts";
import { sweepOfflineAgents } from "./machines.ts";
import { refreshTrustedMemory } from "./trust-refresh.ts";

export async function runSweeps(deps: HubDeps): Promise<void> {
  await deps.store.sessions.removeExpired(deps.clock());
  await sweepOfflineAgents(deps);
  await sweepExpiredLeases(deps);
  await sweepFreshness(deps);
  // After the lease sweep, so a key lent for a job that sweep just ended goes now.
  await sweepLentKeys(deps);
  await refreshTrustedMemory(deps);
}
