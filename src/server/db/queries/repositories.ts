/**
 * Repositories: where a borg repo lives, which agent runs borg against it, what to back
 * up, and the last outcome. The sealed (encrypted) passphrase is deliberately not part of
 * RepositoryRow: only `sealedPassphrase(id)` reads it, so a row can never carry it into a
 * response by accident.
 */
import { and, eq, inArray, notExists, sql } from "drizzle-orm";
import type { ArchiveInfo } from "../../../shared/protocol/agent.ts";
import type { Db } from "../client.ts";
import { jobs, repositories } from "../schema.ts";
import { ACTIVE_JOB_STATUSES } from "./jobs.ts";

export type PassphraseLocation = "hub" | "agent";

export interface RepositoryRow {
  id: number;
  name: string;
  agentMachineId: number;
  location: string;
  boxId: number | null;
  borgVersion: 1 | 2;
  encryption: string;
  passphraseLocation: PassphraseLocation;
  hasPassphrase: boolean;
  sourcePaths: string[];
  excludePatterns: string[];
  compression: string;
  archiveName: string;
  appendOnly: boolean;
  sshHostKey: string | null;
  lastBackupAt: number | null;
  lastResult: string | null;
  lastJobId: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewRepository {
  name: string;
  agentMachineId: number;
  location: string;
  borgVersion: 1 | 2;
  encryption: string;
  /** AES-256-GCM sealed by SecretBox; never the plaintext. */
  passphraseEncrypted: string | null;
  passphraseLocation: PassphraseLocation;
  sourcePaths: string[];
  excludePatterns: string[];
  compression: string;
  archiveName: string;
  appendOnly: boolean;
  sshHostKey: string | null;
}

export type RepositoryPatch = Partial<
  Pick<
    NewRepository,
    | "name"
    | "passphraseEncrypted"
    | "sourcePaths"
    | "excludePatterns"
    | "compression"
    | "archiveName"
    | "sshHostKey"
  >
>;

export interface RepositoryOutcome {
  /** Only set when the backup produced an archive (completed or with warnings). */
  lastBackupAt?: number;
  lastResult: string;
  lastJobId: number;
}

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
  excludePatterns: repositories.excludePatterns,
  compression: repositories.compression,
  archiveName: repositories.archiveName,
  appendOnly: repositories.appendOnly,
  sshHostKey: repositories.sshHostKey,
  lastBackupAt: repositories.lastBackupAt,
  lastResult: repositories.lastResult,
  lastJobId: repositories.lastJobId,
  createdAt: repositories.createdAt,
  updatedAt: repositories.updatedAt,
};

type RawRow = Omit<RepositoryRow, "hasPassphrase"> & { hasPassphrase: number | boolean };

const toRow = (raw: RawRow | undefined): RepositoryRow | undefined =>
  raw ? { ...raw, hasPassphrase: Boolean(raw.hasPassphrase) } : undefined;

const isUniqueViolation = (error: unknown) =>
  error instanceof Error && /UNIQUE constraint failed/.test(error.message);

export function repositoryQueries(db: Db) {
  return {
    /** Undefined when the name is taken. */
    async insert(repository: NewRepository): Promise<RepositoryRow | undefined> {
      return toRow(
        db
          .insert(repositories)
          .values({ ...repository, executionTarget: "agent" })
          .onConflictDoNothing({ target: repositories.name })
          .returning(columns)
          .get() as RawRow | undefined,
      );
    },
    async list(): Promise<RepositoryRow[]> {
      const rows = db.select(columns).from(repositories).orderBy(repositories.id).all();
      return (rows as RawRow[]).map((r) => toRow(r) as RepositoryRow);
    },
    async byId(id: number): Promise<RepositoryRow | undefined> {
      return toRow(
        db.select(columns).from(repositories).where(eq(repositories.id, id)).get() as
          | RawRow
          | undefined,
      );
    },
    /** The sealed passphrase (null when none is stored, undefined when no such repo). */
    async sealedPassphrase(id: number): Promise<string | null | undefined> {
      return db
        .select({ sealed: repositories.passphraseEncrypted })
        .from(repositories)
        .where(eq(repositories.id, id))
        .get()?.sealed;
    },
    /** "name_taken" when a rename collides; undefined when there is no such repository. */
    async update(
      id: number,
      patch: RepositoryPatch,
      now: number,
    ): Promise<RepositoryRow | undefined | "name_taken"> {
      try {
        return toRow(
          db
            .update(repositories)
            .set({ ...patch, updatedAt: now })
            .where(eq(repositories.id, id))
            .returning(columns)
            .get() as RawRow | undefined,
        );
      } catch (error) {
        if (isUniqueViolation(error)) return "name_taken";
        throw error;
      }
    },
    async recordOutcome(id: number, outcome: RepositoryOutcome, now: number): Promise<void> {
      db.update(repositories)
        .set({ ...outcome, updatedAt: now })
        .where(eq(repositories.id, id))
        .run();
    },
    async setArchives(id: number, archives: ArchiveInfo[], listedAt: number): Promise<void> {
      db.update(repositories)
        .set({ archives, archivesListedAt: listedAt, updatedAt: listedAt })
        .where(eq(repositories.id, id))
        .run();
    },
    async archives(
      id: number,
    ): Promise<{ archives: ArchiveInfo[]; listedAt: number | null } | undefined> {
      const row = db
        .select({ archives: repositories.archives, listedAt: repositories.archivesListedAt })
        .from(repositories)
        .where(eq(repositories.id, id))
        .get();
      if (!row) return undefined;
      return { archives: (row.archives as ArchiveInfo[] | null) ?? [], listedAt: row.listedAt };
    },
    /**
     * Deletes the repository unless a job of it is still active (queued, claimed, running,
     * cancel_requested): that job's claim needs the repository's passphrase. One statement,
     * so a job queued at the same moment can't slip between a check and the delete.
     */
    async removeIfIdle(id: number): Promise<boolean> {
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
