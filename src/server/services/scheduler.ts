/**
 * The scheduler: run by start.ts every 15 s and at the next due time when that comes
 * sooner (nextWakeAt), and by tests with a fake clock, it queues
 * each enabled plan's backup when a due time of its schedule (croner, in the plan's
 * timezone) has come, acting as the `scheduler` actor.
 *
 * Exactly once per due time, across restarts and replicas: a due time is claimed with one
 * guarded UPDATE (store.plans.claimDueRun: last_run_at → due, only while it is earlier)
 * and the job is inserted in the same transaction, so of several hubs on one database one
 * wins and the others do nothing; a hub that restarts finds last_run_at and starts there.
 *
 * What a due time becomes:
 * - on time (it came at most ON_TIME_MS ago, after the plan's random delay): one
 *   backup.create with plan_id, scheduled_for = the due time, triggered_by "plan:<id>";
 *   several due times inside one pass (a 6-field schedule) make one job, for the newest.
 * - while a backup of the repository is queued or running (an offline machine's queued
 *   job included): no second job; `plan.skipped` in the audit trail.
 * - due times older than ON_TIME_MS (the hub was down, or the clock jumped: both look the
 *   same here, since lateness is measured from the due time, not from uptime): `plan.missed`
 *   with the times, in the audit trail and as a notification event; `run_once` queues one job for all of them together, `skip` none. Never
 *   one job per missed time.
 * A random delay is derived from the plan and the due time (no randomness at run time),
 * so every replica waits the same and scheduled_for stays the due time itself.
 */
import type { JobRow, PlanRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { SCHEDULER } from "./actor.ts";
import { audit } from "./audit.ts";
import { publishHubEvent } from "./hub-events.ts";
import { auditQueued, planCron, type QueueRefusal, queuePlanBackup } from "./plans.ts";
import { toIso } from "./time.ts";

/** A due time (plus its delay) older than this when the scheduler sees it was missed. */
export const ON_TIME_MS = 2 * 60_000;
/** At most this many missed times are listed in a plan.missed record. */
const MAX_LISTED_MISSED = 100;

/** The plan's wait after `due`: the same for every replica and every pass. */
export function randomDelayMs(plan: Pick<PlanRow, "id" | "randomDelaySeconds">, due: number) {
  if (plan.randomDelaySeconds <= 0) return 0;
  const hash = BigInt(Bun.hash(`${plan.id}:${due}`));
  return Number(hash % BigInt(plan.randomDelaySeconds + 1)) * 1000;
}

export type PlanDecision =
  | { kind: "wait" }
  /** Queue one backup for `due`; `missed` lists times that passed unseen (may be empty). */
  | { kind: "run"; due: number; missed: number[]; truncated: boolean }
  /** Every time since the last run was missed and the policy is skip: claim `due`, queue nothing. */
  | { kind: "skip"; due: number; missed: number[]; truncated: boolean };

/** What the scheduler does with `plan` at `now`. Pure: croner computes the times. */
export function decide(plan: PlanRow, now: number): PlanDecision {
  if (!plan.enabled) return { kind: "wait" };
  // Times before the plan existed, or at or before the last one acted on, are not due.
  const base = plan.lastRunAt ?? plan.createdAt;
  const cron = planCron(plan.schedule, plan.timezone);
  const recent = cron
    .previousRuns(3, new Date(now + 1))
    .map((d) => d.getTime())
    .filter((t) => t > base);
  const due = recent.find((t) => t + randomDelayMs(plan, t) <= now);
  if (due === undefined) return { kind: "wait" };
  const earlier = cron
    .nextRuns(MAX_LISTED_MISSED, new Date(base))
    .map((d) => d.getTime())
    .filter((t) => t < due);
  const truncated = earlier.length === MAX_LISTED_MISSED;
  const late = now - (due + randomDelayMs(plan, due)) > ON_TIME_MS;
  const missed = [...earlier.filter((t) => now - t > ON_TIME_MS), ...(late ? [due] : [])];
  if (late && plan.missedRun === "skip") return { kind: "skip", due, missed, truncated };
  return { kind: "run", due, missed, truncated };
}

/**
 * When the scheduler should look next: the soonest moment a due time of an enabled plan
 * (after its random delay) comes, later than `now`. start.ts wakes then when it is sooner
 * than its regular pass, so a 02:00 backup starts at 02:00, not up to a pass later.
 * Undefined when no plan has a due time coming.
 */
export function nextWakeAt(plans: readonly PlanRow[], now: number): number | undefined {
  let soonest: number | undefined;
  for (const plan of plans) {
    if (!plan.enabled) continue;
    const base = plan.lastRunAt ?? plan.createdAt;
    let cron: ReturnType<typeof planCron>;
    try {
      cron = planCron(plan.schedule, plan.timezone);
    } catch {
      continue; // runScheduler logs it
    }
    // The newest due time may still wait for its random delay; the next one is ahead.
    const candidates = [
      ...cron.previousRuns(1, new Date(now + 1)),
      ...cron.nextRuns(1, new Date(now)),
    ].map((d) => d.getTime());
    for (const due of candidates) {
      if (due <= base) continue;
      const at = due + randomDelayMs(plan, due);
      if (at > now && (soonest === undefined || at < soonest)) soonest = at;
    }
  }
  return soonest;
}

export type SchedulerOutcome =
  | { planId: number; due: number; outcome: "queued"; jobId: number }
  | { planId: number; due: number; outcome: "skipped"; reason: QueueRefusal }
  | { planId: number; due: number; outcome: "missed" };

/** One pass over every plan; what it did (plans another replica claimed first are absent). */
export async function runScheduler(deps: HubDeps): Promise<SchedulerOutcome[]> {
  const outcomes: SchedulerOutcome[] = [];
  for (const plan of await deps.store.plans.list()) {
    try {
      const outcome = await schedulePlan(deps, plan);
      if (outcome) outcomes.push(outcome);
    } catch (error) {
      // One plan's trouble (a schedule a newer croner refuses, a bad row) must not stop the rest.
      deps.logger.error("scheduling a plan failed", {
        plan_id: plan.id,
        error: (error as Error).message,
      });
    }
  }
  return outcomes;
}

async function schedulePlan(deps: HubDeps, plan: PlanRow): Promise<SchedulerOutcome | undefined> {
  const now = deps.clock();
  const decision = decide(plan, now);
  if (decision.kind === "wait") return undefined;
  const { due } = decision;
  const result = await deps.store.transaction(async (tx) => {
    const claimed = await tx.plans.claimDueRun(plan.id, due, now);
    if (!claimed) return undefined; // another replica (or an earlier pass) acted on it
    if (decision.kind === "skip") return { claimed, queued: undefined };
    const queued = await queuePlanBackup({ store: tx }, claimed, {
      triggeredBy: `plan:${plan.id}`,
      scheduledFor: due,
      now,
    });
    return { claimed, queued };
  });
  if (!result) return undefined;

  if (decision.missed.length > 0) {
    await audit(deps, {
      actor: SCHEDULER,
      action: "plan.missed",
      target: `plan:${plan.id}`,
      details: {
        repository_id: plan.repositoryId,
        missed_run: plan.missedRun,
        times: decision.missed.map(toIso),
        ...(decision.truncated ? { more_not_listed: true } : {}),
        queued: result.queued !== undefined && "job" in result.queued,
      },
    });
    await publishMissed(deps, plan, decision.missed);
  }
  const { queued } = result;
  if (queued === undefined) return { planId: plan.id, due, outcome: "missed" };
  if ("refused" in queued) {
    await audit(deps, {
      actor: SCHEDULER,
      action: "plan.skipped",
      target: `plan:${plan.id}`,
      details: {
        repository_id: plan.repositoryId,
        due: toIso(due),
        reason: queued.refused,
      },
    });
    return { planId: plan.id, due, outcome: "skipped", reason: queued.refused };
  }
  const job: JobRow = queued.job;
  deps.notifier.notify(job.agentMachineId);
  await auditQueued(deps, SCHEDULER, result.claimed, job);
  return { planId: plan.id, due, outcome: "queued", jobId: job.id };
}

/**
 * The plan.missed notification for the times one pass found missed (one event per pass
 * that finds some; the channel's cooldown per plan holds back repeats). Never throws.
 */
async function publishMissed(deps: HubDeps, plan: PlanRow, missed: number[]): Promise<void> {
  const repository = await deps.store.repositories.byId(plan.repositoryId);
  await publishHubEvent(deps, {
    type: "plan.missed",
    plan: { id: plan.id, name: plan.name },
    repository: { id: plan.repositoryId, name: repository?.name ?? `#${plan.repositoryId}` },
    missedCount: missed.length,
    dueAt: Math.max(...missed),
  });
}
