/**
 * Opens the hub's SQLite database: busy_timeout BEFORE journal_mode=WAL (otherwise two
 * processes starting at once fail with "database is locked"), synchronous=NORMAL (safe
 * with WAL), foreign keys on. Migrations run before anything else touches it.
 */
import { Database } from "bun:sqlite";
import { type BunSQLiteDatabase, drizzle } from "drizzle-orm/bun-sqlite";
import { applyMigrations } from "./migrate.ts";
import * as schema from "./schema.ts";

export type Db = BunSQLiteDatabase<typeof schema>;

export interface OpenDatabase {
  db: Db;
  sqlite: Database;
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

/** `path` is a file, or ":memory:" for tests. */
export function openDatabase(path: string): OpenDatabase {
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.run("PRAGMA busy_timeout = 10000");
  enableWal(sqlite);
  sqlite.run("PRAGMA synchronous = NORMAL");
  sqlite.run("PRAGMA foreign_keys = ON");
  try {
    const applied = applyMigrations(sqlite);
    return {
      db: drizzle({ client: sqlite, schema }),
      sqlite,
      applied,
      close: () => sqlite.close(),
    };
  } catch (error) {
    sqlite.close();
    throw error;
  }
}
