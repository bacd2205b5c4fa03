/**
 * archive.list on the hub: a completed list replaces the repository's stored archive
 * list (GET /api/repositories/{id}/archives); the job itself keeps only the count. The
 * kind's result schema requires the list, so a result without one fails the job rather
 * than wiping the stored list.
 */
import type { HubJobKind } from "./kind.ts";

export const archiveList: HubJobKind<"archive.list"> = {
  exclusive: false,
  blocks: () => ({}),
  stored: (result) => ({ archive_count: result.archives.length }),

  async completed(deps, job, result) {
    if (job.repositoryId === null) return;
    await deps.store.repositories.setArchives(
      job.repositoryId,
      result.archives,
      job.completedAt ?? deps.clock(),
    );
  },
};
