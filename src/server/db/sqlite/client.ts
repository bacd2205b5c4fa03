/**
 * Opens the hub's SQLite database: busy_timeout BEFORE journal_mode=WAL (otherwise two
 * processes starting at once fail with "database is locked"), synchronous=NORMAL (safe
 * with WAL), foreign keys on. Migrations run before anything else touches it. A file
 * database has its WAL checkpoints done by a thread of its own (checkpointer.ts).
 */
import { Database } from "bun:sqlite";
import { type BunSQLiteDatabase, drizzle } from "drizzle-orm/bun-sqlite";
import { startCheckpointer } from "./checkpointer.ts";
import { applyMigrations } from "./migrate.ts";
import * as schema from "./schema.ts";

export type Db = BunSQLiteDatabase<typeof schema>;

export interface OpenDatabase {
  db: Db;
  sqlite: Database;
  /**
   * A second, read-only connection to the same file for the agent runtime's hot reads
   * (db/sqlite/store.ts): statements on it take no part in the write connection's
   * transactions and cost a fraction of the same statement there. Undefined in memory.
   */
  reader?: Db;
  /** Migration tags applied by this open (empty when the schema was current). */
  applied: string[];
  close(): void;
}

/**
 * Switching a new database file to WAL needs an exclusive lock, and SQLite answers
 * SQLITE_BUSY at once (without its busy handler) when another process opening the same
 * file holds a lock at that moment — two hubs starting together did. Retry, bounded.
 */
function enableWal(sqlite: Database): void {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      sqlite.run("PRAGMA journal_mode = WAL");
      return;
    } catch (error) {
      const busy = (error as { code?: string }).code === "SQLITE_BUSY";
      if (!busy || Date.now() > deadline) throw error;
      Bun.sleepSync(10 + Math.floor(Math.random() * 40));
    }
  }
}

/** What the hub is told about the WAL checkpoint thread (db/sqlite/checkpointer.ts). */
export interface CheckpointNotices {
  /** The thread cannot do its work: SQLite's own automatic checkpoint takes over. */
  onWarning?: (message: string) => void;
  /** The thread is up and checkpoints from now on. */
  onCheckpointerReady?: () => void;
}

/** `path` is a file, or ":memory:" for tests. */
export function openDatabase(path: string, options: CheckpointNotices = {}): OpenDatabase {
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.run("PRAGMA busy_timeout = 10000");
  enableWal(sqlite);
  sqlite.run("PRAGMA synchronous = NORMAL");
  sqlite.run("PRAGMA foreign_keys = ON");
  let readOnly: Database | undefined;
  try {
    const applied = applyMigrations(sqlite);
    if (path !== ":memory:") {
      // Opened after the migrations (and WAL) are in place; WAL lets it read while the
      // write connection writes, each statement seeing every commit made before it.
      readOnly = new Database(path, { readonly: true, strict: true });
      readOnly.run("PRAGMA busy_timeout = 10000");
    }
    const reader = readOnly;
    const checkpointer =
      path === ":memory:"
        ? undefined
        : startCheckpointer(sqlite, path, {
            onError: options.onWarning,
            onReady: options.onCheckpointerReady,
          });
    return {
      db: drizzle({ client: sqlite, schema }),
      sqlite,
      reader: reader ? drizzle({ client: reader, schema }) : undefined,
      applied,
      close: () => {
        checkpointer?.stop();
        reader?.close();
        sqlite.close();
      },
    };
  } catch (error) {
    readOnly?.close();
    sqlite.close();
    throw error;
  }
}
