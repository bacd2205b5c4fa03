/**
 * The archive listing cache's records (archive.browse): one listing per archive of a
 * repository, built from the chunks its job uploads and published when the job
 * completes, and its entries keyed by (parent directory, name). Paths are the archive's
 * own spelling: no leading "/", "" for the archive's root.
 */
import { z } from "zod";
import { ARCHIVE_ENTRY_TYPES } from "../../shared/protocol/agent.ts";

export const LISTING_STATUSES = ["building", "ready"] as const;

export const ArchiveListingRecord = z.object({
  id: z.number().int(),
  repositoryId: z.number().int(),
  archive: z.string(),
  jobId: z.number().int(),
  status: z.enum(LISTING_STATUSES),
  entryCount: z.number().int(),
  createdAt: z.number().int(),
  lastUsedAt: z.number().int(),
});
export type ArchiveListingRow = z.infer<typeof ArchiveListingRecord>;

export const ArchiveEntryRecord = z.object({
  parent: z.string(),
  name: z.string(),
  type: z.enum(ARCHIVE_ENTRY_TYPES),
  size: z.number().int(),
  /** RFC 3339 UTC, or null for a directory borg did not list (an ancestor of a backed-up path). */
  mtime: z.string().nullable(),
  mode: z.string().nullable(),
});
export type ArchiveEntryRow = z.infer<typeof ArchiveEntryRecord>;
