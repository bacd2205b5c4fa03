/**
 * repo.init on the hub: the repository is created with the encryption it was registered
 * with; once it exists it is known to hold no archives, so its archive list starts empty
 * (and each backup's archive joins it) instead of waiting for a first list job.
 */
import type { HubJobKind } from "./kind.ts";

export const repoInit: HubJobKind<"repo.init"> = {
  exclusive: false,
  blocks: (repository) => ({ init: { encryption: repository.encryption } }),
  stored: () => ({}),

  async completed(deps, job) {
    if (job.repositoryId === null) return;
    await deps.store.repositories.setArchives(
      job.repositoryId,
      [],
      job.completedAt ?? deps.clock(),
    );
  },
};
