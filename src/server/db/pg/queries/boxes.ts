/**
 * Storage boxes on PostgreSQL (BoxStore). The sealed token is read only by `sealedToken(id)`;
 * rows never select it.
 */
import { and, eq, notExists, sql } from "drizzle-orm";
import { BoxRecord } from "../../box-records.ts";
import { parseRow } from "../../parse.ts";
import type { BoxStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { sqlState, UNIQUE_VIOLATION } from "../errors.ts";
import { boxes, repositories } from "../schema.ts";

const TABLE = "boxes";

const columns = {
  id: boxes.id,
  name: boxes.name,
  url: boxes.url,
  sshHost: boxes.sshHost,
  sshPort: boxes.sshPort,
  sshUser: boxes.sshUser,
  status: boxes.status,
  lastSeenAt: boxes.lastSeenAt,
  lastError: boxes.lastError,
  version: boxes.version,
  borgVersion: boxes.borgVersion,
  freeBytes: boxes.freeBytes,
  totalBytes: boxes.totalBytes,
  repoCount: boxes.repoCount,
  sshHostKeys: boxes.sshHostKeys,
  repos: boxes.repos,
  reposListedAt: boxes.reposListedAt,
  createdAt: boxes.createdAt,
  updatedAt: boxes.updatedAt,
};

const rowOf = (raw: unknown) => parseRow(BoxRecord, TABLE, raw);
const maybeRow = (raw: unknown) => (raw === undefined ? undefined : rowOf(raw));

export function boxQueries(db: Db): BoxStore {
  return {
    async insert(box) {
      const [row] = await db
        .insert(boxes)
        .values(box)
        .onConflictDoNothing({ target: boxes.name })
        .returning(columns);
      return maybeRow(row);
    },
    async list() {
      return (await db.select(columns).from(boxes).orderBy(boxes.id)).map(rowOf);
    },
    async byId(id) {
      const [row] = await db.select(columns).from(boxes).where(eq(boxes.id, id));
      return maybeRow(row);
    },
    async sealedToken(id) {
      const [row] = await db
        .select({ sealed: boxes.tokenEncrypted })
        .from(boxes)
        .where(eq(boxes.id, id));
      return row?.sealed;
    },
    /** In a savepoint: a taken name aborts only it, not the caller's transaction. */
    async update(id, patch, now) {
      try {
        const [row] = await db.transaction((tx) =>
          tx
            .update(boxes)
            .set({ ...patch, updatedAt: now })
            .where(eq(boxes.id, id))
            .returning(columns),
        );
        return maybeRow(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) return "name_taken";
        throw error;
      }
    },
    async recordRefresh(id, refresh, now) {
      const [row] = await db
        .update(boxes)
        .set({ ...refresh, updatedAt: now })
        .where(eq(boxes.id, id))
        .returning(columns);
      return maybeRow(row);
    },
    /**
     * One statement, so a repository already stored keeps its box. Under READ COMMITTED a
     * repository being created on the box at the same moment (not yet committed) is not
     * seen; repositories.box_id has no foreign key yet, so such a record would name a
     * removed box (its jobs still run: the payload carries location and host keys).
     */
    async removeUnreferenced(id) {
      const users = db
        .select({ id: repositories.id })
        .from(repositories)
        .where(eq(repositories.boxId, id));
      const removed = await db
        .delete(boxes)
        .where(and(eq(boxes.id, id), notExists(users)))
        .returning({ id: boxes.id });
      if (removed.length > 0) return { outcome: "removed" };
      const [exists] = await db.select({ id: boxes.id }).from(boxes).where(eq(boxes.id, id));
      if (!exists) return { outcome: "not_found" };
      const [count] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(repositories)
        .where(eq(repositories.boxId, id));
      return { outcome: "referenced", repositories: count?.n ?? 0 };
    },
  };
}
