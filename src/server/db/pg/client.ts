/**
 * The PostgreSQL connection pool (Bun's built-in client, Bun.SQL) and drizzle on top of
 * it. `Db` is what every query module takes: the pool's drizzle database, or a
 * transaction of it (a savepoint when nested), so one query module serves both.
 */

import { drizzle } from "drizzle-orm/bun-sql";
import type { BunSQLQueryResultHKT } from "drizzle-orm/bun-sql/session";
import type { PgDatabase } from "drizzle-orm/pg-core";
import * as schema from "./schema.ts";

export type Db = PgDatabase<BunSQLQueryResultHKT, typeof schema>;

export interface PgPoolOptions {
  /** Connections in the pool; default 10. */
  max?: number;
  /** Seconds to wait for a connection to be established; default 10. */
  connectionTimeoutSeconds?: number;
}

export function openPool(url: string, options: PgPoolOptions = {}): Bun.SQL {
  return new Bun.SQL(url, {
    max: options.max ?? 10,
    connectionTimeout: options.connectionTimeoutSeconds ?? 10,
    // Idle connections are closed after a minute; the pool reopens them on demand, which is
    // also how it recovers after PostgreSQL restarts.
    idleTimeout: 60,
  });
}

export function drizzleOn(pool: Bun.SQL): Db {
  return drizzle({ client: pool, schema });
}
