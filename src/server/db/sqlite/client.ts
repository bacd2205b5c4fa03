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

/** `path` is a file, or ":memory:" for tests. */
export function openDatabase(path: string): OpenDatabase {
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.run("PRAGMA busy_timeout = 10000");
  sqlite.run("PRAGMA journal_mode = WAL");
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
