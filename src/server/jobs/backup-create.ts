/**
 * backup.create on the hub: the payload carries the repository's sources, excludes,
 * compression and archive-name template (behind a plan's archive prefix); one backup per
 * repository at a time; the job keeps the archive's name and stats; every finished backup
 * that ran is recorded on its repository (last result, last job, last_backup_at when it
 * produced an archive, which is a success for freshness; a failure counts in
 * failures_since_success); and the new archive joins the repository's known archive
 * list, so the repository page shows it without a list job.
 */
import { TERMINAL_JOB_STATUSES } from "../../shared/protocol/agent.ts";
import type { StoredJobResult } from "../db/records.ts";
import type { HubJobKind } from "./kind.ts";

export const backupCreate: HubJobKind<"backup.create"> = {
  exclusive: true,

  blocks: (repository, options) => ({
    backup: {
      // A template: borg expands {hostname}, {now}, … itself. A plan's backups start with
      // the plan's prefix, which its prune is scoped to.
      archive_name: `${options.backup?.archive_prefix ?? ""}${repository.archiveName}`,
      source_paths: [...repository.sourcePaths],
      exclude_patterns: [...repository.excludePatterns],
      compression: repository.compression,
    },
  }),

  stored(result) {
    const stored: StoredJobResult = {};
    if (result.archive_name !== undefined) stored.archive_name = result.archive_name;
    if (result.stats !== undefined) stored.stats = result.stats;
    return stored;
  },

  async completed(deps, job, result) {
    if (job.repositoryId === null || result.archive === undefined) return;
    await deps.store.repositories.addArchive(job.repositoryId, result.archive, deps.clock());
  },

  async transitioned(deps, job) {
    // A backup canceled while still queued never ran: it is no outcome of the repository.
    if (
      job.repositoryId === null ||
      job.claimedAt === null ||
      !TERMINAL_JOB_STATUSES.includes(job.status)
    ) {
      return;
    }
    const produced = job.status === "completed" || job.status === "completed_with_warnings";
    await deps.store.repositories.recordOutcome(
      job.repositoryId,
      {
        lastResult: job.status,
        lastJobId: job.id,
        failed: job.status === "failed",
        ...(produced && job.completedAt !== null ? { lastBackupAt: job.completedAt } : {}),
      },
      deps.clock(),
    );
  },
};
