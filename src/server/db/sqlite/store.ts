/**
 * The SQLite Store (db/store.ts) on one bun:sqlite connection: every query module bound
 * to it, plus `transaction`. A file-backed store also has a read-only connection for the
 * agent runtime's hot reads outside transactions (credential, queued jobs, cancel
 * requests: see the query modules' `read` parameter).
 *
 * bun:sqlite is synchronous, so each query method does all of its work before its first
 * await — a single statement, or one synchronous IMMEDIATE transaction (insertQueued,
 * recordHeartbeat, redeem), which becomes a savepoint when it runs inside `transaction`.
 * Keep it so: the gate below relies on nothing else running between its check and the
 * statement.
 *
 * `transaction(work)` holds the connection across awaits (BEGIN IMMEDIATE … COMMIT).
 * Everything else on this store waits at the gate until it ends, since on a shared
 * connection it would otherwise run inside the transaction and be undone by its rollback.
 * Work inside uses `tx`; a call to the outer store from inside would wait for itself, so
 * it throws instead, naming the mistake. Across processes (two hubs on one file), the
 * write lock and busy_timeout serialise transactions as they do single statements. Two
 * stores on one file in ONE process (only tests do that) must not write to one while the
 * other holds a transaction across an await: bun:sqlite waits for the lock synchronously,
 * so the holder could not run until busy_timeout gave up.
 */
import type { Database } from "bun:sqlite";
import { AsyncLocalStorage } from "node:async_hooks";
import type { OpenedStore, Store } from "../store.ts";
import { type CheckpointNotices, type OpenDatabase, openDatabase } from "./client.ts";
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

type Groups = Omit<Store, "transaction">;
type AnyAsync = (...args: never[]) => Promise<unknown>;

/** An opened SQLite store; `sqlite` is the connection, for tests that inspect rows. */
export interface SqliteStore extends OpenedStore {
  sqlite: Database;
}

/** Opens (creating and migrating) the database at `path`, or ":memory:". */
export function openSqliteStore(path: string, options: CheckpointNotices = {}): SqliteStore {
  const database = openDatabase(path, options);
  return {
    store: createSqliteStore(database),
    applied: database.applied,
    sqlite: database.sqlite,
    // Synchronous underneath: callers that do not await it are closed all the same.
    close: async () => database.close(),
  };
}

export function createSqliteStore(database: Pick<OpenDatabase, "db" | "sqlite" | "reader">): Store {
  const { db, sqlite, reader } = database;
  const groups: Groups = {
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
  };

  // The transaction holding the connection, if any, and the promise that settles when it ends.
  let holder: symbol | undefined;
  let released: Promise<void> = Promise.resolve();
  const context = new AsyncLocalStorage<symbol>();
  /**
   * Waits while a transaction holds the connection. The last check and whatever the
   * caller does next run in one synchronous stretch: no await may come between them,
   * or another transaction could begin in the gap.
   */
  const mustWait = (): boolean => {
    if (holder === undefined) return false;
    if (context.getStore() === holder) {
      throw new Error(
        "this code runs inside store.transaction(): use the transaction's store (tx), not the outer one",
      );
    }
    return true;
  };
  const gated =
    (fn: AnyAsync): AnyAsync =>
    async (...args) => {
      while (mustWait()) await released;
      return fn(...args);
    };

  // Outside transactions, the hot reads go through the read-only connection; inside one
  // they must see its own writes, so `groups` (the write connection) serves transactions.
  const rootGroups: Groups = reader
    ? { ...groups, machines: machineQueries(db, reader), jobs: jobQueries(db, reader) }
    : groups;
  const root: Store = {
    ...wrapGroups(rootGroups, gated),
    async transaction(work) {
      while (mustWait()) await released;
      const token = Symbol("transaction");
      const ended = Promise.withResolvers<void>();
      holder = token;
      released = ended.promise;
      const state: TxState = { open: true, depth: 0 };
      try {
        sqlite.run("BEGIN IMMEDIATE");
        const result = await context.run(token, () => work(txStore(groups, sqlite, state, 0)));
        sqlite.run("COMMIT");
        return result;
      } catch (error) {
        if (sqlite.inTransaction) sqlite.run("ROLLBACK");
        throw error;
      } finally {
        state.open = false;
        holder = undefined;
        ended.resolve();
      }
    },
  };
  return root;
}

interface TxState {
  /** False once the transaction has committed or rolled back. */
  open: boolean;
  /** Savepoints open inside it. */
  depth: number;
}

/**
 * The store handed to transaction work at savepoint depth `level`. It acts only while its
 * transaction is open and no deeper savepoint is: a leaked tx, or the outer tx used while
 * a nested one runs, would otherwise write into the wrong unit of work.
 */
function txStore(groups: Groups, sqlite: Database, state: TxState, level: number): Store {
  const check = (): void => {
    if (!state.open) throw new Error("this transaction has already ended");
    if (state.depth !== level) {
      throw new Error("a nested transaction is running: use its tx until it ends");
    }
  };
  const checked =
    (fn: AnyAsync): AnyAsync =>
    async (...args) => {
      check();
      return fn(...args);
    };
  return {
    ...wrapGroups(groups, checked),
    async transaction(work) {
      check();
      const name = `borgctl_tx_${level + 1}`;
      sqlite.run(`SAVEPOINT ${name}`);
      state.depth = level + 1;
      try {
        const result = await work(txStore(groups, sqlite, state, level + 1));
        sqlite.run(`RELEASE ${name}`);
        return result;
      } catch (error) {
        if (state.open) {
          sqlite.run(`ROLLBACK TO ${name}`);
          sqlite.run(`RELEASE ${name}`);
        }
        throw error;
      } finally {
        state.depth = level;
      }
    },
  };
}

/** Each group with every method passed through `wrap`; property access stays typed. */
function wrapGroups(groups: Groups, wrap: (fn: AnyAsync) => AnyAsync): Groups {
  const wrapOne = <G extends object>(group: G): G => {
    const cache = new Map<PropertyKey, unknown>();
    return new Proxy(group, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof value !== "function") return value;
        let wrapped = cache.get(key);
        if (wrapped === undefined) {
          wrapped = wrap((...args) => Reflect.apply(value, target, args));
          cache.set(key, wrapped);
        }
        return wrapped;
      },
    });
  };
  return {
    users: wrapOne(groups.users),
    sessions: wrapOne(groups.sessions),
    apiTokens: wrapOne(groups.apiTokens),
    audit: wrapOne(groups.audit),
    enrollment: wrapOne(groups.enrollment),
    machines: wrapOne(groups.machines),
    repositories: wrapOne(groups.repositories),
    boxes: wrapOne(groups.boxes),
    lentBoxKeys: wrapOne(groups.lentBoxKeys),
    jobs: wrapOne(groups.jobs),
    plans: wrapOne(groups.plans),
    settings: wrapOne(groups.settings),
    notifications: wrapOne(groups.notifications),
    archiveListings: wrapOne(groups.archiveListings),
    metrics: wrapOne(groups.metrics),
  };
}
