/**
 * The archive listing cache on SQLite (ArchiveListingStore in store.ts). Every method is
 * one statement or one synchronous IMMEDIATE transaction (a savepoint inside
 * store.transaction). Entries go in batches that stay under SQLite's bound-parameter limit.
 */
import { and, asc, desc, eq, ne, sql } from "drizzle-orm";
import { parseMaybe, parseRow, parseRows } from "../../parse.ts";
import { ArchiveEntryRecord, type ArchiveEntryRow, ArchiveListingRecord } from "../../records.ts";
import type { ArchiveListingStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { archiveListingEntries as entries, archiveListings as listings } from "../schema.ts";

const TABLE = "archive_listings";
const ENTRIES = "archive_listing_entries";
/** 7 columns a row: 500 rows stay far below SQLite's 32,766 parameters. */
const BATCH = 500;

const entryColumns = {
  parent: entries.parent,
  name: entries.name,
  type: entries.type,
  size: entries.size,
  mtime: entries.mtime,
  mode: entries.mode,
};

const dirsFirst = sql`CASE WHEN ${entries.type} = 'dir' THEN 0 ELSE 1 END`;

export function archiveListingQueries(db: Db): ArchiveListingStore {
  const byId = (id: number) =>
    parseMaybe(
      ArchiveListingRecord,
      TABLE,
      db.select().from(listings).where(eq(listings.id, id)).get(),
    );
  const insertBatches = (listingId: number, rows: readonly ArchiveEntryRow[], upsert: boolean) => {
    for (let i = 0; i < rows.length; i += BATCH) {
      const values = rows.slice(i, i + BATCH).map((row) => ({ ...row, listingId }));
      const insert = db.insert(entries).values(values);
      if (upsert) {
        insert
          .onConflictDoUpdate({
            target: [entries.listingId, entries.parent, entries.name],
            set: {
              type: sql`excluded.type`,
              size: sql`excluded.size`,
              mtime: sql`excluded.mtime`,
              mode: sql`excluded.mode`,
            },
          })
          .run();
      } else {
        insert.onConflictDoNothing().run();
      }
    }
  };

  return {
    async begin(listing, now) {
      db.insert(listings)
        .values({ ...listing, status: "building", entryCount: 0, createdAt: now, lastUsedAt: now })
        .onConflictDoNothing({ target: listings.jobId })
        .run();
      return parseRow(
        ArchiveListingRecord,
        TABLE,
        db.select().from(listings).where(eq(listings.jobId, listing.jobId)).get(),
      );
    },

    async byJob(jobId) {
      return parseMaybe(
        ArchiveListingRecord,
        TABLE,
        db.select().from(listings).where(eq(listings.jobId, jobId)).get(),
      );
    },

    async forArchive(repositoryId, archive) {
      return parseMaybe(
        ArchiveListingRecord,
        TABLE,
        db
          .select()
          .from(listings)
          .where(and(eq(listings.repositoryId, repositoryId), eq(listings.archive, archive)))
          .orderBy(sql`CASE WHEN ${listings.status} = 'ready' THEN 0 ELSE 1 END`, desc(listings.id))
          .limit(1)
          .get(),
      );
    },

    async addEntries(listingId, real, placeholders) {
      return db.transaction(
        () => {
          if (byId(listingId)?.status !== "building") return false;
          insertBatches(listingId, real, true);
          insertBatches(listingId, placeholders, false);
          return true;
        },
        { behavior: "immediate" },
      );
    },

    async publish(listingId, now) {
      return db.transaction(
        () => {
          const listing = byId(listingId);
          if (listing?.status !== "building") return undefined;
          const counted = db
            .select({ count: sql<number>`count(*)` })
            .from(entries)
            .where(eq(entries.listingId, listingId))
            .get();
          db.delete(listings)
            .where(
              and(
                eq(listings.repositoryId, listing.repositoryId),
                eq(listings.archive, listing.archive),
                ne(listings.id, listingId),
              ),
            )
            .run();
          return parseRow(
            ArchiveListingRecord,
            TABLE,
            db
              .update(listings)
              .set({ status: "ready", entryCount: counted?.count ?? 0, lastUsedAt: now })
              .where(eq(listings.id, listingId))
              .returning()
              .get(),
          );
        },
        { behavior: "immediate" },
      );
    },

    async remove(listingId) {
      db.delete(listings).where(eq(listings.id, listingId)).run();
    },

    async children(listingId, parent, limit) {
      return parseRows(
        ArchiveEntryRecord,
        ENTRIES,
        db
          .select(entryColumns)
          .from(entries)
          .where(and(eq(entries.listingId, listingId), eq(entries.parent, parent)))
          .orderBy(dirsFirst, asc(entries.name))
          .limit(limit)
          .all(),
      );
    },

    async entry(listingId, parent, name) {
      return parseMaybe(
        ArchiveEntryRecord,
        ENTRIES,
        db
          .select(entryColumns)
          .from(entries)
          .where(
            and(
              eq(entries.listingId, listingId),
              eq(entries.parent, parent),
              eq(entries.name, name),
            ),
          )
          .get(),
      );
    },

    async search(listingId, like, { onPath, limit }) {
      const subject = onPath
        ? sql`CASE WHEN ${entries.parent} = '' THEN ${entries.name} ELSE ${entries.parent} || '/' || ${entries.name} END`
        : sql`${entries.name}`;
      return parseRows(
        ArchiveEntryRecord,
        ENTRIES,
        db
          .select(entryColumns)
          .from(entries)
          .where(and(eq(entries.listingId, listingId), sql`${subject} LIKE ${like} ESCAPE '\\'`))
          .orderBy(asc(entries.parent), asc(entries.name))
          .limit(limit)
          .all(),
      );
    },

    async touch(listingId, now) {
      db.update(listings).set({ lastUsedAt: now }).where(eq(listings.id, listingId)).run();
    },

    async evict(maxEntries, keep) {
      return db.transaction(
        () => {
          const ready = db
            .select({ id: listings.id, entryCount: listings.entryCount })
            .from(listings)
            .where(eq(listings.status, "ready"))
            .orderBy(desc(listings.lastUsedAt), desc(listings.id))
            .all();
          let total = ready.reduce((sum, l) => sum + l.entryCount, 0);
          let removed = 0;
          // Oldest first, from the end of the newest-first list.
          for (let i = ready.length - 1; i >= 0 && total > maxEntries; i--) {
            const listing = ready[i];
            if (!listing || listing.id === keep) continue;
            db.delete(listings).where(eq(listings.id, listing.id)).run();
            total -= listing.entryCount;
            removed++;
          }
          return removed;
        },
        { behavior: "immediate" },
      );
    },
  };
}
