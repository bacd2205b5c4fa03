/**
 * The Store group of the archive listing cache (part of store.ts's Store; its contract
 * applies).
 */
import type { ArchiveEntryRow, ArchiveListingRow } from "./records.ts";

/**
 * The archive listing cache (archive.browse; services/archive-browse.ts). A listing is
 * "building" while its job uploads chunks and "ready" once published; entries are keyed by
 * (parent, name) in the archive's own spelling ("" is the root), so a re-sent chunk
 * changes nothing. Directories borg did not list (the ancestors of a backed-up path) are
 * stored as placeholders, which a real entry for the same path replaces.
 */
export interface ArchiveListingStore {
  /** The job's building listing, created on first call (the same row after that). */
  begin(
    listing: { repositoryId: number; archive: string; jobId: number },
    now: number,
  ): Promise<ArchiveListingRow>;
  byJob(jobId: number): Promise<ArchiveListingRow | undefined>;
  /** The archive's ready listing, else its newest building one. */
  forArchive(repositoryId: number, archive: string): Promise<ArchiveListingRow | undefined>;
  /**
   * Adds entries to a building listing (real ones replace placeholders; placeholders never
   * replace anything). False, and nothing stored, when the listing is not building.
   */
  addEntries(
    listingId: number,
    entries: readonly ArchiveEntryRow[],
    placeholders: readonly ArchiveEntryRow[],
  ): Promise<boolean>;
  /**
   * building → ready with its entry count, and the archive's other listings removed, in
   * one step. Undefined when the listing is not building.
   */
  publish(listingId: number, now: number): Promise<ArchiveListingRow | undefined>;
  remove(listingId: number): Promise<void>;
  /** One directory level: directories first, then by name (bytewise), at most `limit`. */
  children(listingId: number, parent: string, limit: number): Promise<ArchiveEntryRow[]>;
  entry(listingId: number, parent: string, name: string): Promise<ArchiveEntryRow | undefined>;
  /**
   * Entries whose name (or, with `onPath`, whole path "parent/name") matches a LIKE
   * pattern (`%`, `_`, `\` escapes; case-insensitive: ASCII letters on SQLite, all on PostgreSQL), by path, at most `limit`.
   */
  search(
    listingId: number,
    like: string,
    options: { onPath: boolean; limit: number },
  ): Promise<ArchiveEntryRow[]>;
  touch(listingId: number, now: number): Promise<void>;
  /**
   * Removes ready listings, least recently used first, until they hold at most
   * `maxEntries` together; `keep` is never removed. How many were removed.
   */
  evict(maxEntries: number, keep?: number): Promise<number>;
}
