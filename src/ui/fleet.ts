/**
 * The dashboard's view of the fleet: machine counts, repositories ordered so the ones
 * that need attention come first (a repository whose newest finished job failed, of any
 * kind, is failing: a failed init is not "never backed up"), running jobs. Pure.
 */
import type { Job, Machine, Repository } from "../shared/protocol/api.ts";
import { humanize, jobKindLabel } from "./format.ts";
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

/** A day without a successful backup is overdue until backup plans say otherwise. */
export const OVERDUE_AFTER_MS = 24 * 60 * 60 * 1000;

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

export function repositoryHealth(repo: Repository, nowMs: number, lastJob?: Job): RepositoryHealth {
  if (repo.last_result === "failed" || lastJob?.status === "failed") return "failing";
  if (!repo.last_backup_at) return "never";
  if (nowMs - Date.parse(repo.last_backup_at) > OVERDUE_AFTER_MS) return "overdue";
  return "ok";
}

/** Why a failed job failed, in one line: "Initialize failed: repository already exists". */
export function failureSummary(job: Job): string {
  const reason =
    job.error_message?.trim() ||
    (job.ended_reason ? humanize(job.ended_reason) : "") ||
    "no reason was recorded";
  return `${jobKindLabel(job.type)} failed: ${reason}`;
}

const HEALTH_ORDER: Record<RepositoryHealth, number> = { failing: 0, never: 1, overdue: 2, ok: 3 };

/** Failing first, then never backed up, then overdue, then the rest; oldest backup first. */
export function repositoriesByAttention(
  repos: readonly Repository[],
  nowMs: number,
  lastJobs: ReadonlyMap<number, Job> = new Map(),
): Repository[] {
  const backupAt = (r: Repository) => (r.last_backup_at ? Date.parse(r.last_backup_at) : 0);
  const health = (r: Repository) => HEALTH_ORDER[repositoryHealth(r, nowMs, lastJobs.get(r.id))];
  return [...repos].sort(
    (a, b) => health(a) - health(b) || backupAt(a) - backupAt(b) || a.name.localeCompare(b.name),
  );
}

export function activeJobs(jobs: readonly Job[]): Job[] {
  return jobs.filter((j) => !isTerminal(j.status));
}
