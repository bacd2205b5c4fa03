/**
 * Backup plans: records (create, read, change, delete), their schedule as croner reads it
 * (next due times and a description in words, in the plan's timezone), and "run now".
 * The scheduler that acts on due times is services/scheduler.ts.
 *
 * Schedules are never parsed here: croner parses and steps them (DST included); the hub
 * only checks that croner accepts the expression and that the timezone is an IANA zone.
 * Every refusal is a 400 naming the field, before anything is stored.
 */
import { Cron } from "croner";
import { AppError } from "../../shared/errors.ts";
import type {
  CreatePlanRequest,
  Plan,
  PlanPreview,
  PlanRetention,
  UpdatePlanRequest,
} from "../../shared/protocol/api.ts";
import type { JobRow, NewPlan, PlanPatch, PlanRow, RepositoryRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import {
  AGENT_TOO_OLD_FOR_OPTIONAL_SOURCES,
  agentLacksOptionalSources,
} from "../jobs/backup-create.ts";
import { hubJobKind } from "../jobs/index.ts";
import type { Actor, UserActor } from "./actor.ts";
import { audit } from "./audit.ts";
import { buildJobPayload } from "./job-payload.ts";
import { triggeredBy } from "./jobs.ts";
import { planArchivePrefix } from "./plan-chain.ts";
import { getRepository } from "./repositories.ts";
import { toIso, toIsoOrNull } from "./time.ts";

/** A 400 in the shape zod's failures have: the field first, then why. */
const invalidField = (field: string, problem: string): never => {
  throw new AppError("validation_failed", `${field}: ${problem}`, [
    { path: field, message: problem },
  ]);
};

/** Whether the runtime's Intl knows `timezone` (IANA names, e.g. Europe/Berlin). */
function isTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The plan's schedule as croner reads it: 5 fields, or 6 with seconds first, or one of
 * croner's @-aliases; in `timezone`. Paused: it only computes times, it never fires.
 */
export function planCron(schedule: string, timezone: string): Cron {
  return new Cron(schedule, { timezone, paused: true, mode: "5-or-6-parts" });
}

/** Throws a 400 naming `timezone` or `schedule` when croner or Intl refuse them. */
export function checkSchedule(schedule: string, timezone: string): void {
  if (!isTimezone(timezone)) invalidField("timezone", `unknown timezone "${timezone}"`);
  let cron: Cron | undefined;
  try {
    cron = planCron(schedule, timezone);
  } catch (error) {
    invalidField("schedule", `not a cron schedule: ${(error as Error).message}`);
  }
  // A valid pattern that never matches (February 30th) would make a plan that never runs.
  if (cron?.nextRun(new Date(0)) === null) {
    invalidField("schedule", "this schedule never comes due");
  }
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const DAY_NAMES: Record<string, number> = {
  SUN: 0,
  MON: 1,
  TUE: 2,
  WED: 3,
  THU: 4,
  FRI: 5,
  SAT: 6,
};
const pad = (n: string) => n.padStart(2, "0");
const isNumber = (field: string) => /^\d{1,2}$/.test(field);

/**
 * The schedule in words for the common shapes ("every day at 02:00 (Europe/Berlin)"),
 * else the expression itself. Reads croner's normalized pattern (aliases expanded); it
 * only names shapes, croner alone decides when a schedule is due.
 */
export function describeSchedule(schedule: string, timezone: string): string {
  const pattern = planCron(schedule, timezone).getPattern() ?? schedule;
  let fields = pattern.trim().split(/\s+/);
  const zone = ` (${timezone})`;
  if (fields.length === 6) {
    const [seconds, ...rest] = fields as [string, ...string[]];
    const everySeconds = /^\*\/(\d+)$/.exec(seconds);
    if (rest.every((f) => f === "*")) {
      if (seconds === "*") return `every second${zone}`;
      if (everySeconds) return `every ${everySeconds[1]} seconds${zone}`;
    }
    if (seconds !== "0") return `cron "${schedule}"${zone}`;
    fields = rest;
  }
  const [minute, hour, day, month, weekday] = fields as [string, string, string, string, string];
  const at = () => `${pad(hour)}:${pad(minute)}`;
  const everyMinutes = /^\*\/(\d+)$/.exec(minute);
  if (month === "*" && day === "*" && weekday === "*") {
    if (minute === "*" && hour === "*") return `every minute${zone}`;
    if (everyMinutes && hour === "*") return `every ${everyMinutes[1]} minutes${zone}`;
    if (isNumber(minute) && hour === "*") {
      return `${minute === "0" ? "every hour" : `every hour at minute ${minute}`}${zone}`;
    }
    if (isNumber(minute) && isNumber(hour)) return `every day at ${at()}${zone}`;
  }
  if (isNumber(minute) && isNumber(hour) && month === "*") {
    const dayIndex = isNumber(weekday) ? Number(weekday) % 7 : DAY_NAMES[weekday.toUpperCase()];
    if (day === "*" && dayIndex !== undefined) {
      return `every ${WEEKDAYS[dayIndex]} at ${at()}${zone}`;
    }
    if (isNumber(day) && weekday === "*") return `every month on day ${day} at ${at()}${zone}`;
  }
  return `cron "${schedule}"${zone}`;
}

/** The next `count` due times after `now` (and after the last one acted on). */
export function nextDueTimes(plan: PlanRow, now: number, count: number): number[] {
  if (!plan.enabled) return [];
  const after = Math.max(now, plan.lastRunAt ?? 0);
  return planCron(plan.schedule, plan.timezone)
    .nextRuns(count, new Date(after))
    .map((d) => d.getTime());
}

/**
 * GET /api/plans/preview: what a schedule would do, computed by the same croner, runtime
 * and timezone data as the scheduler, so the UI's preview is what will happen.
 */
export function previewSchedule(schedule: string, timezone: string, now: number): PlanPreview {
  checkSchedule(schedule, timezone);
  return {
    next_runs: planCron(schedule, timezone)
      .nextRuns(5, new Date(now))
      .map((d) => d.toISOString()),
    description: describeSchedule(schedule, timezone),
  };
}

export function planJson(plan: PlanRow, now: number): Plan {
  const next = nextDueTimes(plan, now, 5);
  return {
    id: plan.id,
    repository_id: plan.repositoryId,
    name: plan.name,
    schedule: plan.schedule,
    timezone: plan.timezone,
    enabled: plan.enabled,
    retention: plan.retention,
    prune_after_backup: plan.pruneAfterBackup,
    compact_every_days: plan.compactEveryDays,
    check_every_days: plan.checkEveryDays,
    check_verify_data: plan.checkVerifyData,
    missed_run: plan.missedRun,
    random_delay_seconds: plan.randomDelaySeconds,
    archive_prefix: planArchivePrefix(plan),
    next_run_at: toIsoOrNull(next[0]),
    next_runs: next.map(toIso),
    description: describeSchedule(plan.schedule, plan.timezone),
    last_run_at: toIsoOrNull(plan.lastRunAt),
    last_job_id: plan.lastJobId,
    created_at: toIso(plan.createdAt),
    updated_at: toIso(plan.updatedAt),
  };
}

export async function getPlan(deps: HubDeps, id: number): Promise<PlanRow> {
  const plan = await deps.store.plans.byId(id);
  if (!plan) throw new AppError("not_found", `no plan ${id}`);
  return plan;
}

export const listPlans = (deps: HubDeps, filter: { repositoryId?: number }) =>
  deps.store.plans.list(filter);

/** The repository a plan is for; 400 naming repository_id when it is gone or its machine revoked. */
async function planRepository(deps: HubDeps, repositoryId: number): Promise<RepositoryRow> {
  const repository = await deps.store.repositories.byId(repositoryId);
  if (!repository) return invalidField("repository_id", `no repository ${repositoryId}`);
  const machine = await deps.store.machines.byId(repository.agentMachineId);
  if (!machine || machine.status === "revoked") {
    invalidField(
      "repository_id",
      `the repository's machine ${machine ? `"${machine.name}" is revoked` : "is gone"}; it can't run backups`,
    );
  }
  return repository;
}

const checkPrune = (pruneAfterBackup: boolean, retention: PlanRetention | null) => {
  if (pruneAfterBackup && retention === null) {
    invalidField("prune_after_backup", "needs retention rules to prune with");
  }
};

export async function createPlan(
  deps: HubDeps,
  actor: UserActor,
  request: CreatePlanRequest,
): Promise<PlanRow> {
  checkSchedule(request.schedule, request.timezone);
  const retention = request.retention ?? null;
  const pruneAfterBackup = request.prune_after_backup ?? retention !== null;
  checkPrune(pruneAfterBackup, retention);
  const repository = await planRepository(deps, request.repository_id);
  const plan: NewPlan = {
    repositoryId: repository.id,
    name: request.name ?? describeSchedule(request.schedule, request.timezone),
    schedule: request.schedule,
    timezone: request.timezone,
    enabled: request.enabled,
    retention,
    pruneAfterBackup,
    compactEveryDays: request.compact_every_days ?? null,
    checkEveryDays: request.check_every_days ?? null,
    checkVerifyData: request.check_verify_data,
    missedRun: request.missed_run,
    randomDelaySeconds: request.random_delay_seconds,
  };
  const now = deps.clock();
  // Due times before the plan existed are not missed runs: the scheduler starts at created_at.
  const created = await deps.store.plans.insert(plan, now);
  await audit(deps, {
    actor,
    action: "plan.create",
    target: `plan:${created.id}`,
    details: { repository_id: repository.id, schedule: plan.schedule, timezone: plan.timezone },
  });
  return created;
}

export async function updatePlan(
  deps: HubDeps,
  actor: UserActor,
  id: number,
  request: UpdatePlanRequest,
): Promise<PlanRow> {
  const current = await getPlan(deps, id);
  const schedule = request.schedule ?? current.schedule;
  const timezone = request.timezone ?? current.timezone;
  checkSchedule(schedule, timezone);
  const retention = request.retention === undefined ? current.retention : request.retention;
  // Setting retention turns pruning on and removing it turns it off, unless the request says.
  const pruneAfterBackup =
    request.prune_after_backup ??
    (request.retention === undefined ? current.pruneAfterBackup : retention !== null);
  checkPrune(pruneAfterBackup, retention);
  await planRepository(deps, current.repositoryId);
  const patch: PlanPatch = {
    name: request.name,
    schedule: request.schedule,
    timezone: request.timezone,
    enabled: request.enabled,
    retention: request.retention,
    pruneAfterBackup,
    compactEveryDays: request.compact_every_days,
    checkEveryDays: request.check_every_days,
    checkVerifyData: request.check_verify_data,
    missedRun: request.missed_run,
    randomDelaySeconds: request.random_delay_seconds,
  };
  const now = deps.clock();
  // A plan switched on again starts now: the time it was off is not a run it missed.
  if (request.enabled === true && !current.enabled) {
    patch.lastRunAt = Math.max(now, current.lastRunAt ?? 0);
  }
  const updated = await deps.store.plans.update(id, patch, now);
  if (!updated) throw new AppError("not_found", `no plan ${id}`);
  await audit(deps, {
    actor,
    action: "plan.update",
    target: `plan:${id}`,
    details: { fields: Object.keys(request).sort() },
  });
  return updated;
}

export async function deletePlan(deps: HubDeps, actor: UserActor, id: number): Promise<void> {
  if (!(await deps.store.plans.remove(id))) throw new AppError("not_found", `no plan ${id}`);
  await audit(deps, { actor, action: "plan.delete", target: `plan:${id}` });
}

/** Why a plan's backup could not be queued, when it could not. */
export type QueueRefusal = "machine_unavailable" | "backup_active" | "agent_too_old";

/**
 * Queues the plan's backup for its repository's agent (the repository's own sources,
 * excludes and archive name, behind the plan's archive prefix), with plan_id and, for a due time, scheduled_for. Runs in
 * `deps.store` as given, so the scheduler can call it inside its claim's transaction.
 */
export async function queuePlanBackup(
  deps: Pick<HubDeps, "store">,
  plan: PlanRow,
  options: { triggeredBy: string; scheduledFor: number | null; now: number },
): Promise<{ job: JobRow } | { refused: QueueRefusal; machineId?: number }> {
  const repository = await deps.store.repositories.byId(plan.repositoryId);
  if (!repository) return { refused: "machine_unavailable" };
  const machine = await deps.store.machines.byId(repository.agentMachineId);
  if (!machine || machine.status === "disabled" || machine.status === "revoked") {
    return { refused: "machine_unavailable", machineId: machine?.id };
  }
  if (agentLacksOptionalSources(repository, machine)) {
    return { refused: "agent_too_old", machineId: machine.id };
  }
  const job = await deps.store.jobs.insertQueued(
    {
      agentMachineId: machine.id,
      repositoryId: repository.id,
      jobKind: "backup.create",
      triggeredBy: options.triggeredBy,
      exclusive: hubJobKind("backup.create").exclusive,
      payloadFor: (jobId) =>
        buildJobPayload(jobId, "backup.create", repository, {
          backup: { archive_prefix: planArchivePrefix(plan) },
        }),
      planId: plan.id,
      scheduledFor: options.scheduledFor,
    },
    options.now,
  );
  if (!job) return { refused: "backup_active", machineId: machine.id };
  await deps.store.plans.update(plan.id, { lastJobId: job.id }, options.now);
  return { job };
}

/** POST /api/plans/{id}/run: the plan's backup now, as the user (no due time). */
export async function runPlanNow(deps: HubDeps, actor: UserActor, id: number): Promise<JobRow> {
  const plan = await getPlan(deps, id);
  await getRepository(deps, plan.repositoryId);
  const queued = await queuePlanBackup(deps, plan, {
    triggeredBy: triggeredBy(actor),
    scheduledFor: null,
    now: deps.clock(),
  });
  if ("refused" in queued) {
    if (queued.refused === "agent_too_old" && queued.machineId !== undefined) {
      const machine = await deps.store.machines.byId(queued.machineId);
      throw new AppError("conflict", AGENT_TOO_OLD_FOR_OPTIONAL_SOURCES(machine?.name ?? "?"));
    }
    throw new AppError(
      "conflict",
      queued.refused === "backup_active"
        ? "a backup of this repository is already queued or running"
        : "the repository's machine can't run jobs (disabled, revoked or gone)",
    );
  }
  deps.notifier.notify(queued.job.agentMachineId);
  await auditQueued(deps, actor, plan, queued.job);
  return queued.job;
}

export async function auditQueued(deps: HubDeps, actor: Actor, plan: PlanRow, job: JobRow) {
  await audit(deps, {
    actor,
    action: "job.queue",
    target: `job:${job.id}`,
    details: {
      job_kind: job.jobKind,
      repository_id: plan.repositoryId,
      agent_machine_id: job.agentMachineId,
      plan_id: plan.id,
      scheduled_for: toIsoOrNull(job.scheduledFor),
    },
  });
}
