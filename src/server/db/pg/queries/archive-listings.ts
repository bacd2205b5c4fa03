/**
 * The archive listing cache on PostgreSQL (ArchiveListingStore in store.ts). Multi-step
 * methods run in one transaction and lock the listing row they depend on (FOR UPDATE), so
 * a chunk racing a publish on another replica lands before it or not at all. Names sort
 * with COLLATE "C" (bytewise), as on SQLite, whatever the database's locale.
 */
import { and, desc, eq, ne, sql } from "drizzle-orm";
import { parseMaybe, parseRow, parseRows } from "../../parse.ts";
import { ArchiveEntryRecord, type ArchiveEntryRow, ArchiveListingRecord } from "../../records.ts";
import type { ArchiveListingStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { archiveListingEntries as entries, archiveListings as listings } from "../schema.ts";

const TABLE = "archive_listings";
const ENTRIES = "archive_listing_entries";
/** 7 columns a row: 1000 rows stay far below PostgreSQL's 65,535 parameters. */
const BATCH = 1000;

const entryColumns = {
  parent: entries.parent,
  name: entries.name,
  type: entries.type,
  size: entries.size,
  mtime: entries.mtime,
  mode: entries.mode,
};

const dirsFirst = sql`CASE WHEN ${entries.type} = 'dir' THEN 0 ELSE 1 END`;
const byteOrder = (column: unknown) => sql`${column} COLLATE "C"`;

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export function archiveListingQueries(db: Db): ArchiveListingStore {
  const lock = async (tx: Tx, id: number) => {
    const [row] = await tx.select().from(listings).where(eq(listings.id, id)).for("update");
    return parseMaybe(ArchiveListingRecord, TABLE, row);
  };
  const insertBatches = async (
    tx: Tx,
    listingId: number,
    rows: readonly ArchiveEntryRow[],
    upsert: boolean,
  ) => {
    for (let i = 0; i < rows.length; i += BATCH) {
      const values = rows.slice(i, i + BATCH).map((row) => ({ ...row, listingId }));
      const insert = tx.insert(entries).values(values);
      if (upsert) {
        await insert.onConflictDoUpdate({
          target: [entries.listingId, entries.parent, entries.name],
          set: {
            type: sql`excluded.type`,
            size: sql`excluded.size`,
            mtime: sql`excluded.mtime`,
            mode: sql`excluded.mode`,
          },
        });
      } else {
        await insert.onConflictDoNothing();
      }
    }
  };

  return {
    async begin(listing, now) {
      await db
        .insert(listings)
        .values({ ...listing, status: "building", entryCount: 0, createdAt: now, lastUsedAt: now })
        .onConflictDoNothing({ target: listings.jobId });
      const [row] = await db.select().from(listings).where(eq(listings.jobId, listing.jobId));
      return parseRow(ArchiveListingRecord, TABLE, row);
    },

    async byJob(jobId) {
      const [row] = await db.select().from(listings).where(eq(listings.jobId, jobId));
      return parseMaybe(ArchiveListingRecord, TABLE, row);
    },

    async forArchive(repositoryId, archive) {
      const [row] = await db
        .select()
        .from(listings)
        .where(and(eq(listings.repositoryId, repositoryId), eq(listings.archive, archive)))
        .orderBy(sql`CASE WHEN ${listings.status} = 'ready' THEN 0 ELSE 1 END`, desc(listings.id))
        .limit(1);
      return parseMaybe(ArchiveListingRecord, TABLE, row);
    },

    async addEntries(listingId, real, placeholders) {
      return db.transaction(async (tx) => {
        if ((await lock(tx, listingId))?.status !== "building") return false;
        // Sorted, so two replicas storing overlapping chunks take row locks in one order.
        const order = (a: ArchiveEntryRow, b: ArchiveEntryRow) =>
          a.parent === b.parent ? (a.name < b.name ? -1 : 1) : a.parent < b.parent ? -1 : 1;
        await insertBatches(tx, listingId, [...real].sort(order), true);
        await insertBatches(tx, listingId, [...placeholders].sort(order), false);
        return true;
      });
    },

    async publish(listingId, now) {
      return db.transaction(async (tx) => {
        const listing = await lock(tx, listingId);
        if (listing?.status !== "building") return undefined;
        const [counted] = await tx
          .select({ count: sql<number>`count(*)::int` })
          .from(entries)
          .where(eq(entries.listingId, listingId));
        await tx
          .delete(listings)
          .where(
            and(
              eq(listings.repositoryId, listing.repositoryId),
              eq(listings.archive, listing.archive),
              ne(listings.id, listingId),
            ),
          );
        const [row] = await tx
          .update(listings)
          .set({ status: "ready", entryCount: counted?.count ?? 0, lastUsedAt: now })
          .where(eq(listings.id, listingId))
          .returning();
        return parseRow(ArchiveListingRecord, TABLE, row);
      });
    },

    async remove(listingId) {
      await db.delete(listings).where(eq(listings.id, listingId));
    },

    async children(listingId, parent, limit) {
      return parseRows(
        ArchiveEntryRecord,
        ENTRIES,
        await db
          .select(entryColumns)
          .from(entries)
          .where(and(eq(entries.listingId, listingId), eq(entries.parent, parent)))
          .orderBy(dirsFirst, byteOrder(entries.name))
          .limit(limit),
      );
    },

    async entry(listingId, parent, name) {
      const [row] = await db
        .select(entryColumns)
        .from(entries)
        .where(
          and(eq(entries.listingId, listingId), eq(entries.parent, parent), eq(entries.name, name)),
        );
      return parseMaybe(ArchiveEntryRecord, ENTRIES, row);
    },

    async search(listingId, like, { onPath, limit }) {
      const subject = onPath
        ? sql`CASE WHEN ${entries.parent} = '' THEN ${entries.name} ELSE ${entries.parent} || '/' || ${entries.name} END`
        : sql`${entries.name}`;
      return parseRows(
        ArchiveEntryRecord,
        ENTRIES,
        await db
          .select(entryColumns)
          .from(entries)
          // Case-insensitive like SQLite's LIKE (which folds only ASCII letters, ILIKE all).
          .where(and(eq(entries.listingId, listingId), sql`${subject} ILIKE ${like} ESCAPE '\\'`))
          .orderBy(byteOrder(entries.parent), byteOrder(entries.name))
          .limit(limit),
      );
    },

    async touch(listingId, now) {
      await db.update(listings).set({ lastUsedAt: now }).where(eq(listings.id, listingId));
    },

    async evict(maxEntries, keep) {
      return db.transaction(async (tx) => {
        const ready = await tx
          .select({ id: listings.id, entryCount: listings.entryCount })
          .from(listings)
          .where(eq(listings.status, "ready"))
          .orderBy(desc(listings.lastUsedAt), desc(listings.id))
          .for("update");
        let total = ready.reduce((sum, l) => sum + l.entryCount, 0);
        let removed = 0;
        for (let i = ready.length - 1; i >= 0 && total > maxEntries; i--) {
          const listing = ready[i];
          if (!listing || listing.id === keep) continue;
          await tx.delete(listings).where(eq(listings.id, listing.id));
          total -= listing.entryCount;
          removed++;
        }
        return removed;
      });
    },
  };
}
