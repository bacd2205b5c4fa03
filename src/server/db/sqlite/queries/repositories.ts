/**
 * Repositories on SQLite (RepositoryStore): where a borg repo lives, which agent runs
 * borg against it, what to back up, and the last outcome. The sealed passphrase is read
 * only by `sealedPassphrase(id)`; rows carry `hasPassphrase`, computed in SQL, so the
 * ciphertext is not even read for them.
 */
import { and, eq, inArray, isNull, notExists, sql } from "drizzle-orm";
import { parseRow } from "../../parse.ts";
import type { RepositoryOutcome } from "../../records.ts";
import { ACTIVE_JOB_STATUSES, RepositoryRecord, StoredArchives } from "../../records.ts";
import type { RepositoryStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { jobs, repositories } from "../schema.ts";

const TABLE = "repositories";

const columns = {
  id: repositories.id,
  name: repositories.name,
  agentMachineId: repositories.agentMachineId,
  location: repositories.location,
  boxId: repositories.boxId,
  borgVersion: repositories.borgVersion,
  encryption: repositories.encryption,
  passphraseLocation: repositories.passphraseLocation,
  hasPassphrase: sql<number>`${repositories.passphraseEncrypted} IS NOT NULL`,
  sourcePaths: repositories.sourcePaths,
  optionalSourcePaths: repositories.optionalSourcePaths,
  excludePatterns: repositories.excludePatterns,
  compression: repositories.compression,
  archiveName: repositories.archiveName,
  appendOnly: repositories.appendOnly,
  sshHostKey: repositories.sshHostKey,
  lastBackupAt: repositories.lastBackupAt,
  lastResult: repositories.lastResult,
  lastJobId: repositories.lastJobId,
  expectedIntervalSeconds: repositories.expectedIntervalSeconds,
  overdueFactor: repositories.overdueFactor,
  failuresSinceSuccess: repositories.failuresSinceSuccess,
  overdueSince: repositories.overdueSince,
  createdAt: repositories.createdAt,
  updatedAt: repositories.updatedAt,
};

type RawRow = { hasPassphrase: number } & Record<string, unknown>;

/** SQLite answers `x IS NOT NULL` with 0 or 1. */
const rowOf = (raw: RawRow) =>
  parseRow(RepositoryRecord, TABLE, { ...raw, hasPassphrase: raw.hasPassphrase === 1 });
const maybeRow = (raw: RawRow | undefined) => (raw === undefined ? undefined : rowOf(raw));

const isUniqueViolation = (error: unknown) =>
  error instanceof Error && /UNIQUE constraint failed/.test(error.message);

/** The columns one backup outcome sets (records.ts RepositoryOutcome). */
const outcomeColumns = ({ lastBackupAt, failed, lastResult, lastJobId }: RepositoryOutcome) => ({
  lastResult,
  lastJobId,
  ...(lastBackupAt !== undefined
    ? { lastBackupAt, failuresSinceSuccess: 0, overdueSince: null }
    : failed
      ? { failuresSinceSuccess: sql`${repositories.failuresSinceSuccess} + 1` }
      : {}),
});

export function repositoryQueries(db: Db): RepositoryStore {
  return {
    async insert(repository) {
      return maybeRow(
        db
          .insert(repositories)
          .values({ ...repository, executionTarget: "agent" })
          .onConflictDoNothing({ target: repositories.name })
          .returning(columns)
          .get(),
      );
    },
    async list() {
      return db.select(columns).from(repositories).orderBy(repositories.id).all().map(rowOf);
    },
    async byId(id) {
      return maybeRow(db.select(columns).from(repositories).where(eq(repositories.id, id)).get());
    },
    async sealedPassphrase(id) {
      return db
        .select({ sealed: repositories.passphraseEncrypted })
        .from(repositories)
        .where(eq(repositories.id, id))
        .get()?.sealed;
    },
    async update(id, patch, now) {
      try {
        return maybeRow(
          db
            .update(repositories)
            .set({ ...patch, updatedAt: now })
            .where(eq(repositories.id, id))
            .returning(columns)
            .get(),
        );
      } catch (error) {
        if (isUniqueViolation(error)) return "name_taken";
        throw error;
      }
    },
    async recordOutcome(id, outcome, now) {
      db.update(repositories)
        .set({ ...outcomeColumns(outcome), updatedAt: now })
        .where(eq(repositories.id, id))
        .run();
    },
    async markOverdue(id, since, lastBackupAt, now) {
      return maybeRow(
        db
          .update(repositories)
          .set({ overdueSince: since, updatedAt: now })
          .where(
            and(
              eq(repositories.id, id),
              isNull(repositories.overdueSince),
              lastBackupAt === null
                ? isNull(repositories.lastBackupAt)
                : eq(repositories.lastBackupAt, lastBackupAt),
            ),
          )
          .returning(columns)
          .get(),
      );
    },
    async clearOverdue(id, since, now) {
      return maybeRow(
        db
          .update(repositories)
          .set({ overdueSince: null, updatedAt: now })
          .where(and(eq(repositories.id, id), eq(repositories.overdueSince, since)))
          .returning(columns)
          .get(),
      );
    },
    async setArchives(id, archives, listedAt) {
      db.update(repositories)
        .set({ archives, archivesListedAt: listedAt, updatedAt: listedAt })
        .where(eq(repositories.id, id))
        .run();
    },
    async addArchive(id, archive, now) {
      return db.transaction(
        (tx) => {
          const row = tx
            .select({ archives: repositories.archives, listedAt: repositories.archivesListedAt })
            .from(repositories)
            .where(eq(repositories.id, id))
            .get();
          if (!row || row.listedAt === null) return false;
          const known =
            row.archives === null
              ? []
              : parseRow(StoredArchives, `${TABLE}.archives`, row.archives, id);
          if (known.some((a) => a.id === archive.id)) return false;
          tx.update(repositories)
            .set({ archives: [...known, archive], updatedAt: now })
            .where(eq(repositories.id, id))
            .run();
          return true;
        },
        { behavior: "immediate" },
      );
    },
    async archives(id) {
      const row = db
        .select({ archives: repositories.archives, listedAt: repositories.archivesListedAt })
        .from(repositories)
        .where(eq(repositories.id, id))
        .get();
      if (!row) return undefined;
      return {
        archives:
          row.archives === null
            ? []
            : parseRow(StoredArchives, `${TABLE}.archives`, row.archives, id),
        listedAt: row.listedAt,
      };
    },
    /**
     * One statement, so a job queued at the same moment can't slip between a check and
     * the delete.
     */
    async removeIfIdle(id) {
      const active = db
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.repositoryId, id), inArray(jobs.status, [...ACTIVE_JOB_STATUSES])));
      return (
        db
          .delete(repositories)
          .where(and(eq(repositories.id, id), notExists(active)))
          .returning({ id: repositories.id })
          .all().length > 0
      );
    },
  };
}
