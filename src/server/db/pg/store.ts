/**
 * The PostgreSQL Store (db/store.ts) on a Bun.SQL connection pool: every query module
 * bound to the pool, plus `transaction`. Several hub replicas open it on one database;
 * what keeps them correct is in the statements (guarded UPDATEs, row locks taken by the
 * few multi-statement methods), not in this process.
 *
 * `transaction(work)` reserves one pooled connection for BEGIN … COMMIT and hands `work`
 * a Store whose every query runs on it; a nested `tx.transaction` is a SAVEPOINT. Unlike
 * the SQLite store, other calls on the outer store are not held: they run on other pooled
 * connections and, by MVCC, see none of the transaction's writes until it commits (so a
 * call to the outer store from inside the work runs outside it, as store.ts warns).
 * Methods atomic on their own (insertQueued, recordHeartbeat, redeem) open their own
 * transaction, or a savepoint when called on a transaction's store.
 *
 * Lifecycle: openPgStore(url) connects, applies migrations under the advisory lock
 * (migrate.ts) and returns the store; close() ends the pool (waiting for running queries
 * up to a few seconds). While PostgreSQL is unreachable every call rejects with
 * AppError("unavailable") (unavailable.ts: a 503 to the client, the driver's error kept as
 * its cause); the pool reconnects on the next call once it is back.
 */
import type { OpenedStore, Store } from "../store.ts";
import { type Db, drizzleOn, openPool, type PgPoolOptions } from "./client.ts";
import { DatabaseUnreachableError, databaseTarget, driverReason } from "./connect.ts";
import { applyPgMigrations } from "./migrate.ts";
import { archiveListingQueries } from "./queries/archive-listings.ts";
import { auditQueries } from "./queries/audit.ts";
import { boxQueries } from "./queries/boxes.ts";
import { enrollmentQueries } from "./queries/enrollment.ts";
import { jobQueries } from "./queries/jobs.ts";
import { lentBoxKeyQueries } from "./queries/lent-box-keys.ts";
import { machineQueries } from "./queries/machines.ts";
import { metricsQueries } from "./queries/metrics.ts";
import { notificationQueries } from "./queries/notifications.ts";
import { planQueries } from "./queries/plans.ts";
import { repositoryQueries } from "./queries/repositories.ts";
import { settingsQueries } from "./queries/settings.ts";
import { apiTokenQueries, sessionQueries, userQueries } from "./queries/users.ts";
import { guardStore } from "./unavailable.ts";

/** An opened PostgreSQL store; `pool` is the connection pool (LISTEN/NOTIFY, tests). */
export interface PgStore extends OpenedStore {
  pool: Bun.SQL;
}

/** Connects to `url`, applies pending migrations, and returns the store. */
export async function openPgStore(url: string, options: PgPoolOptions = {}): Promise<PgStore> {
  const pool = openPool(url, options);
  try {
    // Reach the server first, so an unreachable database is one clear line, not a
    // migration failure.
    await pool`SELECT 1`;
  } catch (error) {
    await pool.close({ timeout: 1 }).catch(() => {});
    throw new DatabaseUnreachableError(databaseTarget(url), driverReason(error, url), {
      cause: error,
    });
  }
  try {
    const applied = await applyPgMigrations(pool);
    return {
      store: createPgStore(drizzleOn(pool)),
      applied,
      pool,
      close: () => pool.close({ timeout: 5 }),
    };
  } catch (error) {
    await pool.close({ timeout: 1 }).catch(() => {});
    throw error;
  }
}

export function createPgStore(db: Db): Store {
  return guardStore({
    users: userQueries(db),
    sessions: sessionQueries(db),
    apiTokens: apiTokenQueries(db),
    audit: auditQueries(db),
    enrollment: enrollmentQueries(db),
    machines: machineQueries(db),
    repositories: repositoryQueries(db),
    boxes: boxQueries(db),
    lentBoxKeys: lentBoxKeyQueries(db),
    jobs: jobQueries(db),
    plans: planQueries(db),
    settings: settingsQueries(db),
    notifications: notificationQueries(db),
    archiveListings: archiveListingQueries(db),
    metrics: metricsQueries(db),
    transaction: (work) => db.transaction((tx) => work(createPgStore(tx))),
  });
}
