/**
 * What follows any change of a job's status, whoever caused it (agent upload, user
 * cancel, lease sweep): publish it to live views, observe a finished job's run time
 * (metrics), let the job's kind record what it
 * records (server/jobs: a backup's outcome on its repository), and audit it. Also words
 * the "agent lost" failure the lease sweep writes; whether a job was lost is its
 * ended_reason, never this text. A finished job (and a started one, for Healthchecks'
 * /start ping) is published as a hub event (hub-events.ts) for notifications.
 */
import { TERMINAL_JOB_STATUSES } from "../../shared/protocol/agent.ts";
import type { JobRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { hubJobKind } from "../jobs/index.ts";
import type { Actor } from "./actor.ts";
import { audit } from "./audit.ts";
import { type HubEvent, publishHubEvent } from "./hub-events.ts";
import { chainAfterPlanJob } from "./plan-chain.ts";

/** The error_message of a job failed by the lease sweep (its ended_reason: agent_lost). */
export function agentLostMessage(leaseMs: number): string {
  const span =
    leaseMs % 60_000 === 0 ? `${leaseMs / 60_000} minutes` : `${Math.round(leaseMs / 1000)} s`;
  return `agent lost: no heartbeat or upload for ${span}`;
}

/**
 * Ended by the lease sweep, not by its agent: failed as agent_lost, or canceled before it
 * ever started. The second needs no reason of its own: the store records the sweep's
 * cancel as "canceled", and an agent always starts a job before it reports it canceled,
 * so a canceled job that was claimed but never started was canceled by the sweep.
 */
export const endedByLeaseSweep = (job: JobRow): boolean =>
  job.endedReason === "agent_lost" ||
  (job.status === "canceled" && job.claimedAt !== null && job.startedAt === null);

/** The notification event of a job's change: its start, or how it ended (canceled: none). */
const JOB_EVENTS: Partial<Record<JobRow["status"], HubEvent["type"]>> = {
  completed: "job.succeeded",
  completed_with_warnings: "job.warning",
  failed: "job.failed",
};

/**
 * Kinds that only read what the hub shows (an archive.list follows every backup): their
 * success is housekeeping, not news. Their failures are still published.
 */
const QUIET_UNLESS_FAILED = new Set<string>(["archive.list", "repo.info"]);

async function publishJobEvent(deps: HubDeps, job: JobRow, action: string): Promise<void> {
  const type = action === "job.start" ? "job.started" : JOB_EVENTS[job.status];
  if (type === undefined) return;
  if (type !== "job.failed" && QUIET_UNLESS_FAILED.has(job.jobKind)) return;
  const repository =
    job.repositoryId === null ? undefined : await deps.store.repositories.byId(job.repositoryId);
  const machine = await deps.store.machines.byId(job.agentMachineId);
  await publishHubEvent(deps, {
    type: type as "job.started",
    job: {
      id: job.id,
      kind: job.jobKind,
      status: job.status,
      errorMessage: job.errorMessage,
      planId: job.planId,
    },
    repository: repository && { id: repository.id, name: repository.name },
    machine: machine && { id: machine.id, name: machine.name },
  });
}

/**
 * Publishes the change, runs the kind's own recording (server/jobs), audits, notifies, and
 * queues what a plan runs next (services/plan-chain.ts). Called once per guarded transition.
 */
export async function recordJobTransition(
  deps: HubDeps,
  job: JobRow,
  event: { actor: Actor; action: string; details?: Record<string, unknown> },
): Promise<void> {
  deps.events.publish(job.id, { type: "status", data: { status: job.status } });
  if (TERMINAL_JOB_STATUSES.includes(job.status)) deps.metrics.observeJob(job);
  await hubJobKind(job.jobKind).transitioned?.(deps, job);
  await audit(deps, {
    actor: event.actor,
    action: event.action,
    target: `job:${job.id}`,
    details: { job_kind: job.jobKind, status: job.status, ...event.details },
  });
  try {
    await chainAfterPlanJob(deps, job);
  } catch (error) {
    // The job's own result is recorded; a failed chain must not turn its report into an error.
    deps.logger.error("queueing a plan's next step failed", {
      job_id: job.id,
      plan_id: job.planId ?? undefined,
      error: (error as Error).message,
    });
  }
  await publishJobEvent(deps, job, event.action);
}
