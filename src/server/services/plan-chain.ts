/**
 * What a plan runs after its backup: backup → prune → compact → check, each step queued
 * by the previous one's success (services/job-finish.ts calls chainAfterPlanJob on every
 * transition). A failed or canceled step ends the chain: a failed backup never prunes.
 *
 * - prune: when the plan prunes (prune_after_backup with retention), with its keep rules,
 *   scoped to the plan's archive prefix, so two plans on one repository never prune each
 *   other's archives. Only to an agent that reports PLAN_PRUNE_CAPABILITY: an older one
 *   would drop the prefix and keep_last and prune more than the plan asked for.
 * - compact: after a prune, every compact_every_days (default 7). Every borg borgctl runs
 *   (1.2+, borg/features.ts `supported`) has compact, which gives pruned space back.
 * - check: every check_every_days (none by default), after the last step that ran, with
 *   check_verify_data.
 *
 * Exactly once: the chain runs when a guarded transition to completed succeeded, which
 * happens once per job whoever delivers the result and however often (a repeated complete
 * is a 409), on one replica. The compact and check cadences are claimed with one guarded
 * UPDATE (store.plans.claimMaintenance) in the transaction that queues the job, so racing
 * chains of one plan queue one compact per period. A hub that stops between the
 * transition and the queueing loses that step (the next backup chains again); it never
 * doubles it.
 */

import type { JobKind } from "../../shared/protocol/agent.ts";
import { PLAN_PRUNE_CAPABILITY } from "../../shared/protocol/agent.ts";
import type { JobRow, PlanRow } from "../db/records.ts";
import type { PlanMaintenanceStep } from "../db/store.ts";
import type { HubDeps } from "../deps.ts";
import type { JobOptions } from "../jobs/kind.ts";
import { SCHEDULER } from "./actor.ts";
import { audit } from "./audit.ts";
import { buildJobPayload } from "./job-payload.ts";
import { toIsoOrNull } from "./time.ts";

const DAY_MS = 24 * 60 * 60_000;
/** compact_every_days when the plan names none (API.md Plans). */
export const DEFAULT_COMPACT_EVERY_DAYS = 7;

/** The archive names of a plan's backups start with this; its prune keeps to them. */
export const planArchivePrefix = (plan: Pick<PlanRow, "id">): string => `plan${plan.id}-`;

/** Whether the plan prunes after its backups. */
export const planPrunes = (plan: PlanRow): boolean =>
  plan.pruneAfterBackup && plan.retention !== null;

type ChainStep = "repo.prune" | "repo.compact" | "repo.check";

/** The steps that may follow a finished `kind`, in order: the first one that applies runs. */
const FOLLOWERS: Partial<Record<JobKind, readonly ChainStep[]>> = {
  "backup.create": ["repo.prune", "repo.check"],
  "repo.prune": ["repo.compact", "repo.check"],
  "repo.compact": ["repo.check"],
};

const MAINTENANCE: Record<Exclude<ChainStep, "repo.prune">, PlanMaintenanceStep> = {
  "repo.compact": "compact",
  "repo.check": "check",
};

/**
 * After a transition of `job`: when it is a plan's job that just completed (with or
 * without warnings), queues the plan's next step, if any. Returns the job it queued.
 */
export async function chainAfterPlanJob(deps: HubDeps, job: JobRow): Promise<JobRow | undefined> {
  if (job.planId === null || job.repositoryId === null) return undefined;
  if (job.status !== "completed" && job.status !== "completed_with_warnings") return undefined;
  const followers = FOLLOWERS[job.jobKind];
  if (!followers) return undefined;
  const plan = await deps.store.plans.byId(job.planId);
  // A plan deleted (or moved off) since: its backup stands, nothing follows.
  if (!plan || plan.repositoryId !== job.repositoryId) return undefined;
  const repository = await deps.store.repositories.byId(plan.repositoryId);
  const machine = repository && (await deps.store.machines.byId(repository.agentMachineId));
  if (!repository || !machine || machine.status === "disabled" || machine.status === "revoked") {
    return undefined;
  }
  // The cadences count in due times when the job has one, so a weekly compact stays on the
  // weekday it started on instead of drifting by each backup's run time.
  const at = job.scheduledFor ?? job.completedAt ?? deps.clock();

  for (const step of followers) {
    if (step === "repo.prune") {
      if (!planPrunes(plan)) continue;
      if (!machine.capabilities.includes(PLAN_PRUNE_CAPABILITY)) {
        await audit(deps, {
          actor: SCHEDULER,
          action: "plan.prune_skipped",
          target: `plan:${plan.id}`,
          details: {
            repository_id: plan.repositoryId,
            after_job_id: job.id,
            reason: `the agent of machine "${machine.name}" is too old to prune only this plan's archives; upgrade it`,
          },
        });
        continue;
      }
    }
    const queued = await deps.store.transaction(async (tx) => {
      if (step !== "repo.prune") {
        const every =
          step === "repo.compact"
            ? (plan.compactEveryDays ?? DEFAULT_COMPACT_EVERY_DAYS)
            : plan.checkEveryDays;
        if (every === null) return undefined;
        const claimed = await tx.plans.claimMaintenance(
          plan.id,
          MAINTENANCE[step],
          at,
          every * DAY_MS,
        );
        if (!claimed) return undefined;
      }
      return tx.jobs.insertQueued(
        {
          agentMachineId: machine.id,
          repositoryId: repository.id,
          jobKind: step,
          triggeredBy: `plan:${plan.id}`,
          exclusive: false,
          payloadFor: (jobId) => buildJobPayload(jobId, step, repository, stepOptions(plan, step)),
          planId: plan.id,
          scheduledFor: job.scheduledFor,
        },
        deps.clock(),
      );
    });
    if (!queued) continue;
    deps.notifier.notify(queued.agentMachineId);
    await audit(deps, {
      actor: SCHEDULER,
      action: "job.queue",
      target: `job:${queued.id}`,
      details: {
        job_kind: step,
        repository_id: plan.repositoryId,
        agent_machine_id: queued.agentMachineId,
        plan_id: plan.id,
        scheduled_for: toIsoOrNull(queued.scheduledFor),
        after_job_id: job.id,
      },
    });
    return queued;
  }
  return undefined;
}

/** What the plan adds to the step's payload: its keep rules and prefix, its check depth. */
function stepOptions(plan: PlanRow, step: ChainStep): JobOptions {
  if (step === "repo.prune") {
    return { prune: { ...plan.retention, archive_prefix: planArchivePrefix(plan) } };
  }
  if (step === "repo.check") {
    return { check: { repository_only: false, verify_data: plan.checkVerifyData } };
  }
  return {};
}
