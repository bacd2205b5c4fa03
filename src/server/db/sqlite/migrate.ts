/**
 * Applies the embedded migrations inside one BEGIN IMMEDIATE transaction. Two hubs
 * starting at once on the same file serialise on SQLite's write lock (busy_timeout):
 * the second finds everything applied and does nothing. Each migration is tracked by
 * tag and hash; a changed hash means the binary and the database disagree about
 * history, and the hub refuses to start rather than guess.
 *
 * Foreign keys are off while migrations run and checked before the commit: a migration
 * that rebuilds a table (SQLite's way to change a column) drops the old one, and with
 * foreign keys on that drop would cascade into every table referencing it. `PRAGMA
 * foreign_keys` is a no-op inside a transaction, so the runner sets it around it, and
 * a migration that leaves a dangling reference is rolled back.
 */
import type { Database } from "bun:sqlite";
import { loadMigrations } from "./migrations-macro.ts" with { type: "macro" };
import type { Migration } from "./migrations-macro.ts";

export function embeddedMigrations(): Migration[] {
  return loadMigrations();
}

export function applyMigrations(
  sqlite: Database,
  migrations: Migration[] = embeddedMigrations(),
): string[] {
  const applied: string[] = [];
  const foreignKeys = sqlite.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get();
  sqlite.run("PRAGMA foreign_keys = OFF");
  try {
    sqlite
      .transaction(() => {
        sqlite.run(
          "CREATE TABLE IF NOT EXISTS borgctl_migrations (tag TEXT PRIMARY KEY, hash TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        );
        const done = new Map(
          sqlite
            .query<{ tag: string; hash: string }, []>("SELECT tag, hash FROM borgctl_migrations")
            .all()
            .map((row) => [row.tag, row.hash]),
        );
        for (const migration of migrations) {
          const hash = done.get(migration.tag);
          if (hash !== undefined) {
            if (hash !== migration.hash) {
              throw new Error(
                `migration ${migration.tag} differs from the one applied to this database; refusing to start`,
              );
            }
            continue;
          }
          for (const statement of migration.statements) sqlite.run(statement);
          sqlite.run("INSERT INTO borgctl_migrations (tag, hash, applied_at) VALUES (?, ?, ?)", [
            migration.tag,
            migration.hash,
            Date.now(),
          ]);
          applied.push(migration.tag);
        }
        if (applied.length > 0) {
          const dangling = sqlite.query("PRAGMA foreign_key_check").all();
          if (dangling.length > 0) {
            throw new Error(
              `migrations ${applied.join(", ")} left ${dangling.length} broken foreign key reference(s): ${JSON.stringify(dangling.slice(0, 5))}`,
            );
          }
        }
      })
      .immediate();
  } finally {
    if (foreignKeys?.foreign_keys) sqlite.run("PRAGMA foreign_keys = ON");
  }
  return applied;
}
