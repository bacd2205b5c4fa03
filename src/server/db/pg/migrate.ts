/**
 * Applies the embedded PostgreSQL migrations in one transaction that first takes a
 * transaction-level advisory lock: hub replicas starting at the same moment on an empty
 * database queue on the lock, the first applies everything, the others then find it all
 * applied and do nothing. Tracked by tag and hash in borgctl_migrations, like the SQLite
 * runner (sqlite/migrate.ts): a changed hash means the binary and the database disagree
 * about history, and the hub refuses to start rather than guess. DDL is transactional in
 * PostgreSQL, so a migration that fails leaves nothing behind.
 */
import { loadPgMigrations } from "./migrations-macro.ts" with { type: "macro" };
import type { Migration } from "./migrations-macro.ts";

/** pg_advisory_xact_lock key: "borgctl" migrations, any fixed number all replicas share. */
export const MIGRATION_LOCK_KEY = 0x626f7267;

export function embeddedPgMigrations(): Migration[] {
  return loadPgMigrations();
}

export async function applyPgMigrations(
  pool: Bun.SQL,
  migrations: Migration[] = embeddedPgMigrations(),
): Promise<string[]> {
  return pool.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`;
    await tx`CREATE TABLE IF NOT EXISTS borgctl_migrations (tag text PRIMARY KEY, hash text NOT NULL, applied_at bigint NOT NULL)`;
    const rows: { tag: string; hash: string }[] =
      await tx`SELECT tag, hash FROM borgctl_migrations`;
    const done = new Map(rows.map((row) => [row.tag, row.hash]));
    const applied: string[] = [];
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
      for (const statement of migration.statements) await tx.unsafe(statement);
      await tx`INSERT INTO borgctl_migrations (tag, hash, applied_at) VALUES (${migration.tag}, ${migration.hash}, ${Date.now()})`;
      applied.push(migration.tag);
    }
    return applied;
  });
}

/** Tags the binary carries that the database has not applied (for --check-database). */
export async function pendingPgMigrations(
  pool: Bun.SQL,
  migrations: Migration[] = embeddedPgMigrations(),
): Promise<string[]> {
  const [exists] = await pool`SELECT to_regclass('borgctl_migrations') IS NOT NULL AS present`;
  if (!exists?.present) return migrations.map((m) => m.tag);
  const rows: { tag: string }[] = await pool`SELECT tag FROM borgctl_migrations`;
  const done = new Set(rows.map((r) => r.tag));
  return migrations.map((m) => m.tag).filter((tag) => !done.has(tag));
}
