/**
 * What follows any change of a job's status, whoever caused it (agent upload, user
 * cancel, lease sweep): publish it to live views, observe a finished job's run time
 * (metrics), let the job's kind record what it
 * records (server/jobs: a backup's outcome on its repository), and audit it. Also words
 * the "agent lost" failure the lease sweep writes; whether a job was lost is its
 * ended_reason, never this text.
 */
import { TERMINAL_JOB_STATUSES } from "../../shared/protocol/agent.ts";
import type { JobRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { hubJobKind } from "../jobs/index.ts";
import type { Actor } from "./actor.ts";
import { audit } from "./audit.ts";

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

/** Publishes the change, runs the kind's own recording (server/jobs), audits. */
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
}
