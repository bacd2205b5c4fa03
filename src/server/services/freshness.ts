/**
 * Freshness: is each repository protected? (API.md, Repositories.) What a repository is
 * expected to do comes from its enabled plans (croner: the longest gap between their
 * consecutive due times, plus the plan's random delay) or a hand-set interval on the
 * repository, which wins. A repository is overdue when no backup succeeded within
 * overdue_factor × that interval, counted from its last success (or, never backed up,
 * from when it or its first enabled plan appeared, whichever is later).
 *
 * The evaluation runs continuously: `sweepFreshness` is one of the periodic sweeps
 * (services/sweeps.ts, every 15 s on every replica). It stores each transition into
 * overdue with one guarded UPDATE (store.repositories.markOverdue), so overdue_since is
 * stable and, of several replicas sweeping at once, exactly one wins the transition and
 * calls `deps.onRepositoryOverdue(repository, since)` — once per transition. Every pass
 * publishes `repository.overdue` (hub-events.ts) for each overdue repository; each
 * notification channel's cooldown turns that into one message per window. A success
 * clears overdue_since in the same UPDATE that records it (job outcome); a repository
 * that stops being overdue without one (its interval grew, its plans were disabled) is
 * cleared by the sweep, guarded by the since it read.
 *
 * Answers read the stored overdue_since, so the API, the UI, metrics and notifications
 * agree; they lag the deadline by at most one sweep interval.
 */
import type { RepositoryFreshness } from "../../shared/protocol/api.ts";
import type { PlanRow, RepositoryRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { SYSTEM } from "./actor.ts";
import { audit } from "./audit.ts";
import { publishHubEvent } from "./hub-events.ts";
import { planCron } from "./plans.ts";
import { toIsoOrNull } from "./time.ts";

/**
 * Due times looked at to find a schedule's longest gap: at least MIN_RUNS and at least
 * MIN_SPAN_MS from the first (a week and a day: weekends; 13 runs: month lengths), at
 * most MAX_RUNS (a schedule every few minutes: 200 runs still span its nights).
 */
const MIN_RUNS = 13;
const MIN_SPAN_MS = 8 * 24 * 60 * 60_000;
const MAX_RUNS = 200;

/** The longest gap between consecutive due times of a schedule, in seconds (null: < 2 runs). */
export function scheduleGapSeconds(
  schedule: string,
  timezone: string,
  from: number,
): number | null {
  const runs: number[] = [];
  try {
    const cron = planCron(schedule, timezone);
    let next = cron.nextRun(new Date(from));
    while (next !== null && runs.length < MAX_RUNS) {
      runs.push(next.getTime());
      if (runs.length >= MIN_RUNS && next.getTime() - (runs[0] as number) >= MIN_SPAN_MS) break;
      next = cron.nextRun(next);
    }
  } catch {
    // Checked when the plan was stored; one croner no longer reads must not fail every answer.
    return null;
  }
  let longest = 0;
  for (let i = 1; i < runs.length; i++) {
    longest = Math.max(longest, (runs[i] as number) - (runs[i - 1] as number));
  }
  return runs.length < 2 ? null : Math.ceil(longest / 1000);
}

/** How long a computed gap is reused: it depends on the schedule, and on time only through DST. */
const GAP_TTL_MS = 6 * 60 * 60_000;

/**
 * Schedule gaps, kept per schedule and timezone for GAP_TTL_MS: croner steps 13 to 200
 * due times per schedule (milliseconds each time), and every sweep and repository
 * answer needs them.
 * One per HubDeps (deps.scheduleGaps); entries of schedules no longer used are dropped
 * when they expire.
 */
export class ScheduleGapCache {
  private readonly entries = new Map<string, { gap: number | null; at: number }>();

  gap(schedule: string, timezone: string, now: number): number | null {
    const key = `${timezone}\u0000${schedule}`;
    const cached = this.entries.get(key);
    if (cached && now - cached.at < GAP_TTL_MS && now >= cached.at) return cached.gap;
    if (this.entries.size > 10_000) this.dropExpired(now);
    const gap = scheduleGapSeconds(schedule, timezone, now);
    // Backdated by up to a quarter of the TTL, so a fleet's entries do not all expire in
    // the same pass (a cold pass over many distinct schedules takes seconds).
    this.entries.set(key, { gap, at: now - Math.floor(Math.random() * (GAP_TTL_MS / 4)) });
    return gap;
  }

  private dropExpired(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.at >= GAP_TTL_MS) this.entries.delete(key);
    }
  }
}

/**
 * The interval the enabled plans promise: the shortest of their longest gaps (a daily and
 * a weekly plan together promise a backup a day). Null when no enabled plan has one.
 */
export function planInterval(
  plans: readonly PlanRow[],
  now: number,
  cache: ScheduleGapCache = new ScheduleGapCache(),
): number | null {
  let best: number | null = null;
  for (const plan of plans) {
    if (!plan.enabled) continue;
    const gap = cache.gap(plan.schedule, plan.timezone, now);
    if (gap === null) continue;
    const interval = gap + plan.randomDelaySeconds;
    best = best === null ? interval : Math.min(best, interval);
  }
  return best;
}

export interface FreshnessFacts {
  expectedIntervalSeconds: number | null;
  source: "repository" | "plans" | null;
  /** When the repository is (was) overdue without a success; null without an interval. */
  overdueAt: number | null;
}

/** The expected interval in effect and the deadline it sets, from the repository and its plans. */
export function freshnessFacts(
  repository: RepositoryRow,
  plans: readonly PlanRow[],
  now: number,
  cache?: ScheduleGapCache,
): FreshnessFacts {
  const fromPlans = repository.expectedIntervalSeconds === null;
  const interval = fromPlans ? planInterval(plans, now, cache) : repository.expectedIntervalSeconds;
  if (interval === null) return { expectedIntervalSeconds: null, source: null, overdueAt: null };
  // Never backed up: the clock starts when there was something to expect.
  const firstPlan = Math.min(...plans.filter((p) => p.enabled).map((p) => p.createdAt));
  const basis =
    repository.lastBackupAt ??
    (fromPlans ? Math.max(repository.createdAt, firstPlan) : repository.createdAt);
  return {
    expectedIntervalSeconds: interval,
    source: fromPlans ? "plans" : "repository",
    overdueAt: basis + Math.round(repository.overdueFactor * interval * 1000),
  };
}

export function freshnessStatus(repository: RepositoryRow): RepositoryFreshness["status"] {
  if (repository.failuresSinceSuccess > 0) return "failing";
  if (repository.overdueSince !== null) return "overdue";
  if (repository.lastBackupAt === null) return "never";
  return "ok";
}

export function freshnessJson(
  repository: RepositoryRow,
  facts: FreshnessFacts,
  storageEvidence: RepositoryFreshness["storage_evidence"] = null,
): RepositoryFreshness {
  return {
    status: freshnessStatus(repository),
    last_success_at: toIsoOrNull(repository.lastBackupAt),
    last_job_status: repository.lastResult,
    failures_since_success: repository.failuresSinceSuccess,
    expected_interval_seconds: facts.expectedIntervalSeconds,
    expected_interval_source: facts.source,
    overdue_factor: repository.overdueFactor,
    overdue_at: toIsoOrNull(facts.overdueAt),
    overdue_since: toIsoOrNull(repository.overdueSince),
    storage_evidence: storageEvidence,
  };
}

const plansByRepository = (plans: readonly PlanRow[]) => {
  const grouped = new Map<number, PlanRow[]>();
  for (const plan of plans)
    grouped.set(plan.repositoryId, [...(grouped.get(plan.repositoryId) ?? []), plan]);
  return grouped;
};

/** The freshness facts of several repositories (one plan read; gaps from deps.scheduleGaps). */
export async function freshnessOfRepositories(
  deps: Pick<HubDeps, "store" | "clock" | "scheduleGaps">,
  repositories: readonly RepositoryRow[],
): Promise<Map<number, FreshnessFacts>> {
  if (repositories.length === 0) return new Map();
  const now = deps.clock();
  const plans = plansByRepository(
    repositories.length === 1
      ? await deps.store.plans.list({ repositoryId: (repositories[0] as RepositoryRow).id })
      : await deps.store.plans.list(),
  );
  return new Map(
    repositories.map((r) => [
      r.id,
      freshnessFacts(r, plans.get(r.id) ?? [], now, deps.scheduleGaps),
    ]),
  );
}

/** The repository.overdue notification event (never throws: publishHubEvent logs). */
async function publishOverdue(deps: HubDeps, repository: RepositoryRow, since: number) {
  const machine = await deps.store.machines.byId(repository.agentMachineId);
  await publishHubEvent(deps, {
    type: "repository.overdue",
    repository: { id: repository.id, name: repository.name },
    machine: machine && { id: machine.id, name: machine.name },
    overdueSince: since,
    lastSuccessAt: repository.lastBackupAt,
  });
}

export interface FreshnessSweepResult {
  overdue: number[];
  cleared: number[];
}

/**
 * One pass over every repository (or the ones given): stores transitions into and out of
 * overdue. Safe to run on every replica at once: each transition is a guarded UPDATE and
 * only its winner audits it and calls onRepositoryOverdue.
 */
export async function sweepFreshness(
  deps: HubDeps,
  only?: readonly RepositoryRow[],
): Promise<FreshnessSweepResult> {
  const repositories = only ?? (await deps.store.repositories.list());
  // Read once per pass: with no enabled channel, an overdue repository costs no machine
  // lookup and no channel listing on every pass.
  const notifying = (await deps.store.notifications.listChannels()).some((c) => c.enabled);
  const facts = await freshnessOfRepositories(deps, repositories);
  const now = deps.clock();
  const result: FreshnessSweepResult = { overdue: [], cleared: [] };
  for (const repository of repositories) {
    const { overdueAt } = facts.get(repository.id) as FreshnessFacts;
    const due = overdueAt !== null && overdueAt <= now;
    if (due && repository.overdueSince !== null) {
      // Still overdue: published again on every pass; each channel's cooldown decides
      // when people hear of it again (hub-events.ts).
      if (notifying) await publishOverdue(deps, repository, repository.overdueSince);
    } else if (due && repository.overdueSince === null) {
      const marked = await deps.store.repositories.markOverdue(
        repository.id,
        overdueAt,
        repository.lastBackupAt,
        now,
      );
      if (!marked) continue; // another replica won it, or a success just landed
      result.overdue.push(marked.id);
      await audit(deps, {
        actor: SYSTEM,
        action: "repository.overdue",
        target: `repository:${marked.id}`,
        details: { name: marked.name, overdue_since: toIsoOrNull(overdueAt) },
      });
      if (notifying) await publishOverdue(deps, marked, overdueAt);
      try {
        await deps.onRepositoryOverdue(marked, overdueAt);
      } catch (error) {
        deps.logger.child("freshness").error("overdue listener failed", {
          repository: marked.id,
          error: (error as Error).message,
        });
      }
    } else if (!due && repository.overdueSince !== null) {
      const cleared = await deps.store.repositories.clearOverdue(
        repository.id,
        repository.overdueSince,
        now,
      );
      if (cleared) result.cleared.push(cleared.id);
    }
  }
  return result;
}
