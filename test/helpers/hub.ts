/**
 * A hub for tests: real SQLite (in memory unless a path is given), real services, the
 * real Hono app. `request` goes through app.request() (no sockets); `serve()` puts the
 * same app on 127.0.0.1 for tests that need real HTTP (long polls, SSE, fake agents).
 */

import { createApp } from "../../src/server/app.ts";
import { type OpenDatabase, openDatabase } from "../../src/server/db/client.ts";
import { createStore } from "../../src/server/db/store.ts";
import { DEFAULT_SETTINGS, type HubDeps, type HubSettings } from "../../src/server/deps.ts";
import { bootstrapAdmin } from "../../src/server/services/auth.ts";
import { JobEventBus } from "../../src/server/services/job-events.ts";
import { JobNotifier } from "../../src/server/services/job-notifier.ts";
import { SecretBox } from "../../src/server/services/secret-box.ts";
import { FailureThrottle } from "../../src/shared/failure-throttle.ts";
import { createLogger } from "../../src/shared/log.ts";

export const ADMIN_PASSWORD = "admin-password-for-tests";
export const SECRET_KEY = Buffer.alloc(32, 7).toString("base64");

export interface TestHub {
  deps: HubDeps;
  database: OpenDatabase;
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
  const database = openDatabase(options.path ?? ":memory:");
  const logLines: string[] = [];
  let time = Date.now();
  const logger = createLogger({ level: "debug", write: (line) => logLines.push(line) });
  const deps: HubDeps = {
    store: createStore(database.db),
    logger,
    clock: () => time,
    secretBox: SecretBox.fromText(SECRET_KEY),
    settings: { ...DEFAULT_SETTINGS, ...options.settings },
    notifier: new JobNotifier(),
    events: new JobEventBus(),
    loginThrottle: new FailureThrottle({ now: () => time }),
    agentAuthThrottle: new FailureThrottle({ now: () => time }),
    sleep: async () => {},
    version: "0.0.0-test",
  };
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
    database,
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
      database.close();
    },
  };
}
