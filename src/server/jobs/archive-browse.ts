/**
 * archive.browse on the hub: the payload names the archive; the listing itself arrives
 * in chunks while the job runs (services/archive-browse.ts storeListingChunk) into the
 * job's building listing. A completed job publishes it (the archive's other listings go)
 * and evicts the least recently browsed listings over the cache's size; a job that ends
 * any other way drops what it had uploaded, so half a listing is never served.
 */
import { AppError } from "../../shared/errors.ts";
import { TERMINAL_JOB_STATUSES } from "../../shared/protocol/agent.ts";
import type { HubJobKind, JobOptions } from "./kind.ts";

function browseBlock(options: JobOptions) {
  if (!options.browse) throw new AppError("validation_failed", "archive.browse needs an archive");
  return options.browse;
}

export const archiveBrowse: HubJobKind<"archive.browse"> = {
  exclusive: false,
  checkRequest: (options) => void browseBlock(options),
  blocks: (_repository, options) => ({ browse: browseBlock(options) }),
  stored: (result) => ({ entry_count: result.entry_count }),

  async completed(deps, job) {
    const listing = await deps.store.archiveListings.byJob(job.id);
    if (!listing) return;
    const published = await deps.store.archiveListings.publish(listing.id, deps.clock());
    if (published) {
      await deps.store.archiveListings.evict(deps.settings.archiveCacheMaxEntries, published.id);
    }
  },

  async transitioned(deps, job) {
    if (!TERMINAL_JOB_STATUSES.includes(job.status) || job.status.startsWith("completed")) return;
    const listing = await deps.store.archiveListings.byJob(job.id);
    if (listing && listing.status === "building")
      await deps.store.archiveListings.remove(listing.id);
  },
};
