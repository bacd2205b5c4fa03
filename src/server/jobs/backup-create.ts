/**
 * backup.create on the hub: the payload carries the repository's sources, excludes,
 * compression and archive-name template (behind a plan's archive prefix); one backup per
 * repository at a time; the job keeps the archive's name and stats; every finished backup
 * that ran is recorded on its repository (last result, last job, last_backup_at when it
 * produced an archive, which is a success for freshness; a failure counts in
 * failures_since_success); and the new archive joins the repository's known archive
 * list, so the repository page shows it without a list job.
 */
import { OPTIONAL_SOURCES_CAPABILITY, TERMINAL_JOB_STATUSES } from "../../shared/protocol/agent.ts";
import type { MachineRow, RepositoryRow, StoredJobResult } from "../db/records.ts";
import type { HubJobKind } from "./kind.ts";

/**
 * Whether the repository's backup can't go to this machine's agent: it has optional
 * sources and the agent predates them. Such an agent would ignore the field and back up
 * less than the repository says, yet look protected; sending them as required would fail
 * every run where one is absent. Neither is safe, so the backup is refused (a user's
 * request with 409, a plan's run skipped) until the agent is upgraded.
 */
export const agentLacksOptionalSources = (
  repository: Pick<RepositoryRow, "optionalSourcePaths">,
  machine: Pick<MachineRow, "capabilities">,
): boolean =>
  repository.optionalSourcePaths.length > 0 &&
  !machine.capabilities.includes(OPTIONAL_SOURCES_CAPABILITY);

export const AGENT_TOO_OLD_FOR_OPTIONAL_SOURCES = (machineName: string): string =>
  `the agent on machine "${machineName}" is too old for optional source paths; upgrade borgctl there, or make them required`;

export const backupCreate: HubJobKind<"backup.create"> = {
  exclusive: true,

  blocks: (repository, options) => ({
    backup: {
      // A template: borg expands {hostname}, {now}, … itself. A plan's backups start with
      // the plan's prefix, which its prune is scoped to.
      archive_name: `${options.backup?.archive_prefix ?? ""}${repository.archiveName}`,
      source_paths: [...repository.sourcePaths],
      // Only when there are any, and only to an agent that reports
      // OPTIONAL_SOURCES_CAPABILITY (agentLacksOptionalSources).
      ...(repository.optionalSourcePaths.length > 0
        ? { optional_source_paths: [...repository.optionalSourcePaths] }
        : {}),
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
