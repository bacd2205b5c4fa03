/**
 * The dashboard's view of the fleet: machine counts, the hub's freshness of each
 * repository (protected, overdue, failing, never) with why one needs attention, the
 * repositories ordered so those come first, running jobs. Pure.
 */
import type { Job, Machine, Repository } from "../shared/protocol/api.ts";
import { formatAge, formatDuration, humanize, jobKindLabel } from "./format.ts";
import { isTerminal } from "./job-view.ts";

export interface MachineCounts {
  online: number;
  offline: number;
  other: number;
}

export function countMachines(machines: readonly Machine[]): MachineCounts {
  const counts: MachineCounts = { online: 0, offline: 0, other: 0 };
  for (const m of machines) {
    if (m.status === "online") counts.online++;
    else if (m.status === "offline") counts.offline++;
    else counts.other++;
  }
  return counts;
}

export type RepositoryHealth = "failing" | "never" | "overdue" | "ok";

/** Each repository's newest finished job among `jobs` (any order). */
export function lastFinishedJobs(jobs: readonly Job[]): Map<number, Job> {
  const last = new Map<number, Job>();
  for (const j of jobs) {
    if (j.repository_id === null || !isTerminal(j.status)) continue;
    const seen = last.get(j.repository_id);
    if (!seen || seen.id < j.id) last.set(j.repository_id, j);
  }
  return last;
}

/**
 * The hub's freshness answer (the hub evaluates it continuously, with the plans'
 * schedules). One addition: a repository never backed up whose newest job failed (a
 * failed init) is failing, since no backup can succeed until that is fixed.
 */
export function repositoryHealth(repo: Repository, lastJob?: Job): RepositoryHealth {
  const status = repo.freshness.status;
  if (status === "never" && lastJob?.status === "failed") return "failing";
  return status;
}

/** Why a repository needs attention, in one line; undefined when it does not. */
export function attentionReason(
  repo: Repository,
  nowMs: number,
  lastJob?: Job,
): string | undefined {
  const f = repo.freshness;
  const health = repositoryHealth(repo, lastJob);
  const every = f.expected_interval_seconds
    ? `expected every ${formatDuration(f.expected_interval_seconds)}`
    : undefined;
  if (health === "failing") {
    if (lastJob?.status === "failed") return failureSummary(lastJob);
    const n = f.failures_since_success;
    return `${n} backup${n === 1 ? "" : "s"} failed since the last success`;
  }
  if (health === "overdue") {
    const since = f.last_success_at
      ? `no successful backup for ${formatAge(f.last_success_at, nowMs).replace(/ ago$/, "")}`
      : "never backed up";
    return every ? `${since}, ${every}` : since;
  }
  if (health === "never") {
    return every
      ? `not backed up yet (${every})`
      : "never backed up, and no backup plan: add a plan or back up now";
  }
  return undefined;
}
/** Why a failed job failed, in one line: "Initialize failed: repository already exists". */
export function failureSummary(job: Job): string {
  const reason =
    job.error_message?.trim() ||
    (job.ended_reason ? humanize(job.ended_reason) : "") ||
    "no reason was recorded";
  return `${jobKindLabel(job.type)} failed: ${reason}`;
}

const HEALTH_ORDER: Record<RepositoryHealth, number> = { failing: 0, overdue: 1, never: 2, ok: 3 };

/** Failing first, then overdue, then never backed up, then the rest; oldest success first. */
export function repositoriesByAttention(
  repos: readonly Repository[],
  lastJobs: ReadonlyMap<number, Job> = new Map(),
): Repository[] {
  const successAt = (r: Repository) =>
    r.freshness.last_success_at ? Date.parse(r.freshness.last_success_at) : 0;
  const health = (r: Repository) => HEALTH_ORDER[repositoryHealth(r, lastJobs.get(r.id))];
  return [...repos].sort(
    (a, b) => health(a) - health(b) || successAt(a) - successAt(b) || a.name.localeCompare(b.name),
  );
}

export type FreshnessCounts = Record<RepositoryHealth, number>;

/** How many repositories are protected (ok), overdue, failing, never backed up. */
export function countFreshness(
  repos: readonly Repository[],
  lastJobs: ReadonlyMap<number, Job> = new Map(),
): FreshnessCounts {
  const counts: FreshnessCounts = { ok: 0, overdue: 0, failing: 0, never: 0 };
  for (const r of repos) counts[repositoryHealth(r, lastJobs.get(r.id))]++;
  return counts;
}

/** The freshness status in words, for badges. */
export const HEALTH_LABELS: Record<RepositoryHealth, string> = {
  ok: "protected",
  overdue: "overdue",
  failing: "failing",
  never: "never backed up",
};

export function activeJobs(jobs: readonly Job[]): Job[] {
  return jobs.filter((j) => !isTerminal(j.status));
}
