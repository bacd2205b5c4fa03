/**
 * archive.browse: the whole listing of one archive (`borg list --json-lines`), which the
 * hub caches per archive (archives are immutable) and answers directory levels and
 * searches from. The listing does not travel in the result: an archive may hold millions
 * of files, so the agent uploads it in bounded chunks (POST /api/agents/jobs/{id}/listing,
 * ListingChunk below) while the job runs, and the result only counts what it sent. The
 * hub publishes the listing when the job completes and drops it when the job does not.
 */
import { z } from "zod";
import { OneLine, Text } from "../common.ts";
import { defineJobKind, MAX_ARCHIVE_NAME_CHARS, Size } from "./common.ts";

export const BrowseBlock = z.object({ archive: OneLine(MAX_ARCHIVE_NAME_CHARS) });
export type BrowseBlock = z.infer<typeof BrowseBlock>;

export const ARCHIVE_ENTRY_TYPES = ["file", "dir", "link"] as const;
/** The longest member path the hub keeps (borg's own limit is the OS's PATH_MAX). */
export const MAX_MEMBER_PATH_CHARS = 4096;
/** At most this many entries in one chunk, and at most MAX_LISTING_CHUNK_BYTES of JSON. */
export const MAX_LISTING_CHUNK_ENTRIES = 5000;
export const MAX_LISTING_CHUNK_BYTES = 4 * 1024 * 1024;

/** One archive member as the agent reports it: borg's path (no leading "/"), type, size, mtime, mode. */
export const ListingEntry = z.object({
  path: Text(MAX_MEMBER_PATH_CHARS).min(1),
  type: z.enum(ARCHIVE_ENTRY_TYPES),
  size: Size,
  /** borg's own spelling (ISO 8601, local time of the machine that made the archive). */
  mtime: OneLine(64).nullable(),
  /** e.g. "-rw-r--r--". */
  mode: OneLine(16).nullable(),
});
export type ListingEntry = z.infer<typeof ListingEntry>;

/**
 * One upload of listing entries. `sequence` counts chunks from 0; a retried chunk is
 * stored once (entries are keyed by path), so the agent may resend after a network error.
 */
export const ListingChunk = z.object({
  sequence: z.number().int().min(0),
  entries: z.array(ListingEntry).min(1).max(MAX_LISTING_CHUNK_ENTRIES),
});
export type ListingChunk = z.infer<typeof ListingChunk>;

export const archiveBrowse = defineJobKind(
  "archive.browse",
  { browse: BrowseBlock },
  { entry_count: Size, chunk_count: Size },
);
