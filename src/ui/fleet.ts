/**
 * The dashboard's view of the fleet: machine counts, repositories ordered so the ones
 * that need attention come first, running jobs. Pure.
 */
import type { Job, Machine, Repository } from "../shared/protocol/api.ts";
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

export function repositoryHealth(repo: Repository, nowMs: number): RepositoryHealth {
  if (repo.last_result === "failed") return "failing";
  if (!repo.last_backup_at) return "never";
  if (nowMs - Date.parse(repo.last_backup_at) > OVERDUE_AFTER_MS) return "overdue";
  return "ok";
}

const HEALTH_ORDER: Record<RepositoryHealth, number> = { failing: 0, never: 1, overdue: 2, ok: 3 };

/** Failing first, then never backed up, then overdue, then the rest; oldest backup first. */
export function repositoriesByAttention(repos: readonly Repository[], nowMs: number): Repository[] {
  const backupAt = (r: Repository) => (r.last_backup_at ? Date.parse(r.last_backup_at) : 0);
  return [...repos].sort(
    (a, b) =>
      HEALTH_ORDER[repositoryHealth(a, nowMs)] - HEALTH_ORDER[repositoryHealth(b, nowMs)] ||
      backupAt(a) - backupAt(b) ||
      a.name.localeCompare(b.name),
  );
}

export function activeJobs(jobs: readonly Job[]): Job[] {
  return jobs.filter((j) => !isTerminal(j.status));
}
