/**
 * Repositories on PostgreSQL (RepositoryStore). The sealed passphrase is read only by
 * `sealedPassphrase(id)`; rows carry `hasPassphrase`, computed in SQL.
 */
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { parseRow } from "../../parse.ts";
import type { RepositoryOutcome } from "../../records.ts";
import { ACTIVE_JOB_STATUSES, RepositoryRecord, StoredArchives } from "../../records.ts";
import type { RepositoryStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { sqlState, UNIQUE_VIOLATION } from "../errors.ts";
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
  hasPassphrase: sql<boolean>`${repositories.passphraseEncrypted} IS NOT NULL`,
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

const rowOf = (raw: unknown) => parseRow(RepositoryRecord, TABLE, raw);
const maybeRow = (raw: unknown) => (raw === undefined ? undefined : rowOf(raw));

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
      const [row] = await db
        .insert(repositories)
        .values({ ...repository, executionTarget: "agent" })
        .onConflictDoNothing({ target: repositories.name })
        .returning(columns);
      return maybeRow(row);
    },
    async list() {
      return (await db.select(columns).from(repositories).orderBy(repositories.id)).map(rowOf);
    },
    async byId(id) {
      const [row] = await db.select(columns).from(repositories).where(eq(repositories.id, id));
      return maybeRow(row);
    },
    async sealedPassphrase(id) {
      const [row] = await db
        .select({ sealed: repositories.passphraseEncrypted })
        .from(repositories)
        .where(eq(repositories.id, id));
      return row?.sealed;
    },
    /** In a savepoint: a taken name aborts only it, not the caller's transaction. */
    async update(id, patch, now) {
      try {
        const [row] = await db.transaction((tx) =>
          tx
            .update(repositories)
            .set({ ...patch, updatedAt: now })
            .where(eq(repositories.id, id))
            .returning(columns),
        );
        return maybeRow(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) return "name_taken";
        throw error;
      }
    },
    async recordOutcome(id, outcome, now) {
      await db
        .update(repositories)
        .set({ ...outcomeColumns(outcome), updatedAt: now })
        .where(eq(repositories.id, id));
    },
    async markOverdue(id, since, lastBackupAt, now) {
      const [row] = await db
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
        .returning(columns);
      return maybeRow(row);
    },
    async clearOverdue(id, since, now) {
      const [row] = await db
        .update(repositories)
        .set({ overdueSince: null, updatedAt: now })
        .where(and(eq(repositories.id, id), eq(repositories.overdueSince, since)))
        .returning(columns);
      return maybeRow(row);
    },
    async setArchives(id, archives, listedAt) {
      await db
        .update(repositories)
        .set({ archives, archivesListedAt: listedAt, updatedAt: listedAt })
        .where(eq(repositories.id, id));
    },
    /** The row is locked first (FOR UPDATE) so a list landing at the same moment is not lost. */
    async addArchive(id, archive, now) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .select({ archives: repositories.archives, listedAt: repositories.archivesListedAt })
          .from(repositories)
          .where(eq(repositories.id, id))
          .for("update");
        if (!row || row.listedAt === null) return false;
        const known =
          row.archives === null
            ? []
            : parseRow(StoredArchives, `${TABLE}.archives`, row.archives, id);
        if (known.some((a) => a.id === archive.id)) return false;
        await tx
          .update(repositories)
          .set({ archives: [...known, archive], updatedAt: now })
          .where(eq(repositories.id, id));
        return true;
      });
    },
    async archives(id) {
      const [row] = await db
        .select({ archives: repositories.archives, listedAt: repositories.archivesListedAt })
        .from(repositories)
        .where(eq(repositories.id, id));
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
     * The repository row is locked first (FOR UPDATE), as insertQueued locks it before
     * queueing: a job queued at the same moment either commits before the check below
     * sees it, or waits and then finds the repository gone.
     */
    async removeIfIdle(id) {
      return db.transaction(async (tx) => {
        const [repo] = await tx
          .select({ id: repositories.id })
          .from(repositories)
          .where(eq(repositories.id, id))
          .for("update");
        if (!repo) return false;
        const [active] = await tx
          .select({ id: jobs.id })
          .from(jobs)
          .where(and(eq(jobs.repositoryId, id), inArray(jobs.status, [...ACTIVE_JOB_STATUSES])))
          .limit(1);
        if (active) return false;
        await tx.delete(repositories).where(eq(repositories.id, id));
        return true;
      });
    },
  };
}
