/**
 * Applies the embedded migrations inside one BEGIN IMMEDIATE transaction. Two hubs
 * starting at once on the same file serialise on SQLite's write lock (busy_timeout):
 * the second finds everything applied and does nothing. Each migration is tracked by
 * tag and hash; a changed hash means the binary and the database disagree about
 * history, and the hub refuses to start rather than guess.
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
    })
    .immediate();
  return applied;
}
