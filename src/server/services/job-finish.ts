/**
 * What follows any change of a job's status, whoever caused it (agent upload, user
 * cancel, lease sweep): publish it to live views, record a backup's outcome on its
 * repository, and audit it. Also names the "agent lost" failure, so later uploads for
 * such a job can be answered `lease_lost`.
 */
import { TERMINAL_JOB_STATUSES } from "../../shared/protocol/agent.ts";
import type { JobRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import type { Actor } from "./actor.ts";
import { audit } from "./audit.ts";

export const AGENT_LOST_PREFIX = "agent lost:";

export function agentLostMessage(leaseMs: number): string {
  const span =
    leaseMs % 60_000 === 0 ? `${leaseMs / 60_000} minutes` : `${Math.round(leaseMs / 1000)} s`;
  return `${AGENT_LOST_PREFIX} no heartbeat or upload for ${span}`;
}

/** Ended by the lease sweep (failed, or canceled before it started), not by its agent. */
export const isAgentLost = (job: JobRow) =>
  (job.status === "failed" || job.status === "canceled") &&
  (job.errorMessage?.startsWith(AGENT_LOST_PREFIX) ?? false);

/** Publishes the change, records a finished backup on its repository, audits. */
export async function recordJobTransition(
  deps: HubDeps,
  job: JobRow,
  event: { actor: Actor; action: string; details?: Record<string, unknown> },
): Promise<void> {
  deps.events.publish(job.id, { type: "status", data: { status: job.status } });
  // A backup canceled while still queued never ran: it is no outcome of the repository.
  if (
    job.jobKind === "backup.create" &&
    job.repositoryId !== null &&
    job.claimedAt !== null &&
    TERMINAL_JOB_STATUSES.includes(job.status)
  ) {
    const produced = job.status === "completed" || job.status === "completed_with_warnings";
    await deps.store.repositories.recordOutcome(
      job.repositoryId,
      {
        lastResult: job.status,
        lastJobId: job.id,
        ...(produced && job.completedAt !== null ? { lastBackupAt: job.completedAt } : {}),
      },
      deps.clock(),
    );
  }
  await audit(deps, {
    actor: event.actor,
    action: event.action,
    target: `job:${job.id}`,
    details: { job_kind: job.jobKind, status: job.status, ...event.details },
  });
}
