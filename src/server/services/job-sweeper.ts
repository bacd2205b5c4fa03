/**
 * The lease sweep: a claimed or running job whose lease (renewed by heartbeats, start,
 * progress and log uploads) has expired belongs to an agent that is gone.
 *   - claimed, never started      → requeued for the same agent (nothing ran yet)
 *   - cancel requested, never started → canceled (nothing ran, and the user wanted it gone)
 *   - anything else held          → failed, "agent lost: …", ended_reason agent_lost
 * The store sets each one's ended_reason; later uploads of the agent are answered
 * lease_lost from that state (job-finish.ts endedByLeaseSweep), never from the message.
 * Each is one guarded bulk UPDATE, so a sweep racing an upload has one winner: the
 * upload then answers 409 lease_lost. The composition root runs this periodically;
 * tests call it after hub.tick().
 *
 * A hub that was down (an upgrade, a reboot, a long outage) could not take renewals, so
 * at start it first gives every held job a full lease (renewLeasesAfterOutage): agents
 * that are still working get the time to reconnect and deliver their queued uploads,
 * instead of every running backup being failed as "agent lost" by the first sweep.
 */
import type { JobRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { SYSTEM } from "./actor.ts";
import { agentLostMessage, recordJobTransition } from "./job-finish.ts";

export interface SweepResult {
  requeued: number[];
  canceled: number[];
  failed: number[];
}

export async function renewLeasesAfterOutage(deps: HubDeps): Promise<number> {
  const now = deps.clock();
  const renewed = await deps.store.jobs.extendHeldLeases(now, now + deps.settings.leaseMs);
  if (renewed > 0) {
    deps.logger.child("jobs").info("renewed the leases of held jobs at start", {
      jobs: renewed,
      lease_ms: deps.settings.leaseMs,
    });
  }
  return renewed;
}

export async function sweepExpiredLeases(deps: HubDeps): Promise<SweepResult> {
  const now = deps.clock();
  const requeued = await deps.store.jobs.requeueExpired(now);
  const canceled = await deps.store.jobs.cancelExpiredUnstarted(
    now,
    `${agentLostMessage(deps.settings.leaseMs)}; canceled as requested before borg started`,
  );
  const failed = await deps.store.jobs.failExpired(now, agentLostMessage(deps.settings.leaseMs));

  const log = deps.logger.child("jobs");
  const record = async (jobs: JobRow[], action: string) => {
    for (const job of jobs) {
      log.warn(`lease expired: ${action}`, { job: job.id, agent_machine_id: job.agentMachineId });
      await recordJobTransition(deps, job, { actor: SYSTEM, action });
    }
  };
  await record(requeued, "job.requeue");
  await record(canceled, "job.lease_expired");
  await record(failed, "job.lease_expired");
  // Requeued work is claimable again: wake its agent's long poll if it is back.
  for (const agentMachineId of new Set(requeued.map((j) => j.agentMachineId))) {
    deps.notifier.notify(agentMachineId);
  }
  return {
    requeued: requeued.map((j) => j.id),
    canceled: canceled.map((j) => j.id),
    failed: failed.map((j) => j.id),
  };
}
