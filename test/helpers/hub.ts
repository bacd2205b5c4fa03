/**
 * A hub for tests: real SQLite (in memory unless a path is given), real services, the
 * real Hono app, wired by the same createHubDeps as `borgctl server` with a fake clock
 * and no sleeps. `request` goes through app.request() (no sockets); `serve()` puts the
 * same app on 127.0.0.1 for tests that need real HTTP (long polls, SSE, fake agents).
 *
 * With BORGCTL_TEST_STORE=postgres the same hub runs on the PostgreSQL store instead (a
 * fresh database of a per-process throwaway cluster, test-store.ts; a `path` names the
 * database, so a test that restarts the hub on one path gets the same data back). The
 * store opens asynchronously, so until it has, `deps.store` waits for it on every call.
 * Wake-ups and job events stay in process (one hub); the replicas tests cover
 * LISTEN/NOTIFY. Raw SQL goes through `sql()`, which runs on either; `database` (the
 * SQLite handle) is for the few tests about SQLite's own files.
 */

import { createApp } from "../../src/server/app.ts";
import type { PgStore } from "../../src/server/db/pg/store.ts";
import { openSqliteStore, type SqliteStore } from "../../src/server/db/sqlite/store.ts";
import type { Store } from "../../src/server/db/store.ts";
import { createHubDeps, type HubDeps, type HubSettings } from "../../src/server/deps.ts";
import { bootstrapAdmin } from "../../src/server/services/auth.ts";
import { SecretBox } from "../../src/server/services/secret-box.ts";
import { createLogger } from "../../src/shared/log.ts";
import { JOB_PAYLOAD_SCHEMA_VERSION, type JobPayload } from "../../src/shared/protocol/agent.ts";
import { openTestPgStore, type TestStoreKind, testStoreKind } from "./test-store.ts";

export const ADMIN_PASSWORD = "admin-password-for-tests";
export const SECRET_KEY = Buffer.alloc(32, 7).toString("base64");

/**
 * A valid payload (JSON) for a backup job a test writes straight into the jobs table:
 * the store parses every payload it reads, so a made-up one would fail the read.
 */
export const RAW_JOB_PAYLOAD = JSON.stringify({
  schema_version: JOB_PAYLOAD_SCHEMA_VERSION,
  job_id: 0,
  job_kind: "backup.create",
  repository: {
    id: 0,
    name: "written-by-the-test",
    location: "/srv/borg/test",
    borg_version: 1,
    encryption: "none",
    append_only: false,
    ssh_host_key: null,
  },
  backup: {
    archive_name: "{hostname}-{now}",
    source_paths: ["/etc"],
    exclude_patterns: [],
    compression: "lz4",
  },
  secrets: { passphrase_location: "agent" },
} satisfies JobPayload);

export interface TestHub {
  deps: HubDeps;
  /** Which store this hub runs on (BORGCTL_TEST_STORE). */
  storeKind: TestStoreKind;
  /** The SQLite store, for tests about SQLite itself; throws on PostgreSQL (use `sql`). */
  database: SqliteStore;
  /**
   * Raw SQL on the hub's database, whichever it is, to read or corrupt rows directly.
   * Placeholders are `?` (turned into `$1…` for PostgreSQL); a JSON column's value is
   * passed as an object or array (SQLite gets its JSON text); integers come back as numbers.
   */
  sql<Row = Record<string, unknown>>(query: string, params?: unknown[]): Promise<Row[]>;
  logLines: string[];
  /** Current fake time (ms); advance with `tick`. Starts at the real now. */
  now(): number;
  tick(ms: number): void;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  /** Logs in and returns a session token. */
  login(username?: string, password?: string): Promise<string>;
  /** Serves the app on 127.0.0.1 (a given port lets a test stop and restart "the hub"). */
  serve(port?: number): { url: string; port: number; stop(): void };
  close(): void;
}

export interface RequestOptions {
  token?: string;
  agentToken?: string;
  body?: unknown;
  headers?: Record<string, string>;
  ip?: string;
}

export interface TestResponse {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

export function createTestHub(
  options: { path?: string; settings?: Partial<HubSettings> } = {},
): TestHub {
  const storeKind = testStoreKind();
  const sqlite = storeKind === "sqlite" ? openSqliteStore(options.path ?? ":memory:") : undefined;
  const postgres = storeKind === "postgres" ? openTestPgStore(options.path) : undefined;
  const logLines: string[] = [];
  let time = Date.now();
  const deps = createHubDeps({
    store: sqlite?.store ?? deferredStore((postgres as Promise<PgStore>).then((o) => o.store)),
    logger: createLogger({ level: "debug", write: (line) => logLines.push(line) }),
    secretBox: SecretBox.fromText(SECRET_KEY),
    settings: options.settings,
    clock: () => time,
    sleep: async () => {},
    version: "0.0.0-test",
  });
  const app = createApp(deps);
  const ready = bootstrapAdmin(deps, ADMIN_PASSWORD);

  const request = async (
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<TestResponse> => {
    await ready;
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.agentToken) headers["x-borg-agent-authorization"] = `Bearer ${opts.agentToken}`;
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const response = await app.request(
      path,
      {
        method,
        headers,
        body:
          opts.body === undefined
            ? undefined
            : typeof opts.body === "string"
              ? opts.body
              : JSON.stringify(opts.body),
      },
      { ip: opts.ip ?? "127.0.0.1" },
    );
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, body, text, headers: response.headers };
  };

  return {
    deps,
    storeKind,
    get database(): SqliteStore {
      if (!sqlite) throw new Error("this test reads SQLite itself: it runs on SQLite only");
      return sqlite;
    },
    async sql<Row>(query: string, params: unknown[] = []): Promise<Row[]> {
      if (sqlite) {
        const bound = params.map((p) =>
          typeof p === "object" && p !== null ? JSON.stringify(p) : p,
        );
        return sqlite.sqlite.query(query).all(...(bound as never[])) as Row[];
      }
      let n = 0;
      const rows = (await (
        await (postgres as Promise<PgStore>)
      ).pool.unsafe(
        query.replace(/\?/g, () => `$${++n}`),
        params,
      )) as Record<string, unknown>[];
      // int8 columns (ids, times in ms) arrive as strings; SQLite gives numbers.
      return rows.map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([k, v]) => [
            k,
            typeof v === "string" && /^-?\d{1,15}$/.test(v) ? Number(v) : v,
          ]),
        ),
      ) as Row[];
    },
    logLines,
    now: () => time,
    tick: (ms) => {
      time += ms;
    },
    request,
    async login(username = "admin", password = ADMIN_PASSWORD) {
      const response = await request("POST", "/api/auth/login", { body: { username, password } });
      if (response.status !== 200) throw new Error(`login failed: ${response.text}`);
      return (response.body as { token: string }).token;
    },
    serve(port = 0) {
      const server = Bun.serve({
        hostname: "127.0.0.1",
        port,
        idleTimeout: 60,
        fetch: (req, srv) => app.fetch(req, { ip: srv.requestIP(req)?.address }),
      });
      return {
        url: `http://127.0.0.1:${server.port}`,
        port: server.port ?? port,
        stop: () => server.stop(true),
      };
    },
    close() {
      if (sqlite) void sqlite.close();
      else void postgres?.then((opened) => opened.close()).catch(() => {});
    },
  };
}

/**
 * A Store whose every call waits for `opened` first: createTestHub stays synchronous
 * (tests build it at module scope) while the PostgreSQL store connects and migrates.
 */
function deferredStore(opened: Promise<Store>): Store {
  const namespaces = new Map<PropertyKey, unknown>();
  return new Proxy({} as Store, {
    get(_target, name) {
      if (name === "transaction") {
        return async (work: Parameters<Store["transaction"]>[0]) =>
          (await opened).transaction(work);
      }
      if (!namespaces.has(name)) {
        namespaces.set(
          name,
          new Proxy(
            {},
            {
              get:
                (_ns, method) =>
                async (...args: unknown[]) => {
                  const store = (await opened) as unknown as Record<
                    PropertyKey,
                    Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>
                  >;
                  const target = store[name];
                  const fn = target?.[method];
                  if (typeof fn !== "function") {
                    throw new Error(`the store has no ${String(name)}.${String(method)}`);
                  }
                  return fn.apply(target, args);
                },
            },
          ),
        );
      }
      return namespaces.get(name);
    },
  });
}
