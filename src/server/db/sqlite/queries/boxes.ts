/**
 * Storage boxes on SQLite (BoxStore). The sealed token is read only by `sealedToken(id)`;
 * rows never select it.
 */
import { and, eq, notExists, sql } from "drizzle-orm";
import { BoxRecord } from "../../box-records.ts";
import { parseRow } from "../../parse.ts";
import type { BoxStore } from "../../store.ts";
import type { Db } from "../client.ts";
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

const isUniqueViolation = (error: unknown) => {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/UNIQUE constraint failed/.test(e.message)) return true;
  }
  return false;
};

export function boxQueries(db: Db): BoxStore {
  return {
    async insert(box) {
      return maybeRow(
        db
          .insert(boxes)
          .values(box)
          .onConflictDoNothing({ target: boxes.name })
          .returning(columns)
          .get(),
      );
    },
    async list() {
      return db.select(columns).from(boxes).orderBy(boxes.id).all().map(rowOf);
    },
    async byId(id) {
      return maybeRow(db.select(columns).from(boxes).where(eq(boxes.id, id)).get());
    },
    async sealedToken(id) {
      return db.select({ sealed: boxes.tokenEncrypted }).from(boxes).where(eq(boxes.id, id)).get()
        ?.sealed;
    },
    async update(id, patch, now) {
      try {
        return maybeRow(
          db
            .update(boxes)
            .set({ ...patch, updatedAt: now })
            .where(eq(boxes.id, id))
            .returning(columns)
            .get(),
        );
      } catch (error) {
        if (isUniqueViolation(error)) return "name_taken";
        throw error;
      }
    },
    async recordRefresh(id, refresh, now) {
      return maybeRow(
        db
          .update(boxes)
          .set({ ...refresh, updatedAt: now })
          .where(eq(boxes.id, id))
          .returning(columns)
          .get(),
      );
    },
    /** One statement, so a repository created on the box at the same moment keeps it. */
    async removeUnreferenced(id) {
      const users = db
        .select({ id: repositories.id })
        .from(repositories)
        .where(eq(repositories.boxId, id));
      const removed = db
        .delete(boxes)
        .where(and(eq(boxes.id, id), notExists(users)))
        .returning({ id: boxes.id })
        .all();
      if (removed.length > 0) return { outcome: "removed" };
      if (!db.select({ id: boxes.id }).from(boxes).where(eq(boxes.id, id)).get()) {
        return { outcome: "not_found" };
      }
      const count =
        db
          .select({ n: sql<number>`count(*)` })
          .from(repositories)
          .where(eq(repositories.boxId, id))
          .get()?.n ?? 0;
      return { outcome: "referenced", repositories: count };
    },
  };
}
