/**
 * Composition root of `borgctl server`: opens the database in the data dir (migrations
 * applied), loads or creates the secret key, creates the first admin, serves the app,
 * runs the periodic sweeps (offline agents, expired job leases), and on SIGTERM/SIGINT
 * releases long polls, stops the server and closes the database.
 */
import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { displayUrl } from "../shared/config/addr.ts";
import type { HubConfig } from "../shared/config/hub.ts";
import { stopOnSignals } from "../shared/lifecycle.ts";
import type { Logger } from "../shared/log.ts";
import { createApp } from "./app.ts";
import { openSqliteStore } from "./db/sqlite/store.ts";
import { createHubDeps, type HubDeps } from "./deps.ts";
import { resolveClient, trustedProxyMatcher } from "./http/client-address.ts";
import { bootstrapAdmin } from "./services/auth.ts";
import { renewLeasesAfterOutage } from "./services/job-sweeper.ts";
import { SecretBox } from "./services/secret-box.ts";
import { runSweeps } from "./services/sweeps.ts";

export const DATABASE_FILE = "borgctl.sqlite";
export const SECRET_KEY_FILE = "secret.key";
const SWEEP_INTERVAL_MS = 15_000;

export interface RunningHub {
  url: string;
  deps: HubDeps;
  stop(): Promise<void>;
  stopped: Promise<void>;
}

export async function startHub(
  config: HubConfig,
  options: { logger: Logger; announce: (text: string) => void },
): Promise<RunningHub> {
  const { logger } = options;
  mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
  const databasePath = join(config.data_dir, DATABASE_FILE);
  const database = openSqliteStore(databasePath);
  // Hashes, audit trail and encrypted passphrases: owner only (SQLite gives -wal/-shm the same mode).
  chmodSync(databasePath, 0o600);
  if (database.applied.length > 0)
    logger.info("database migrated", { applied: database.applied.join(",") });
  const secretBox = config.secret_key
    ? SecretBox.fromText(config.secret_key)
    : SecretBox.fromFile(join(config.data_dir, SECRET_KEY_FILE));
  const tls = config.tls_cert !== undefined;
  const publicUrl = config.public_url === undefined ? undefined : new URL(config.public_url);
  const deps = createHubDeps({
    store: database.store,
    logger,
    secretBox,
    settings: {
      // Browsers reach the hub over https when it serves TLS or when its public URL says so.
      secureCookies: tls || publicUrl?.protocol === "https:",
      // A URL without an http(s) origin (its origin is "null") never matches a request's Origin.
      publicOrigin: publicUrl?.origin === "null" ? undefined : publicUrl?.origin,
    },
  });

  const boot = await bootstrapAdmin(deps, config.admin_password);
  if (boot.generatedPassword) {
    options.announce(
      `First start: created user "admin" with password ${boot.generatedPassword}\n` +
        "It is shown only this once: sign in and change it (or set BORGCTL_ADMIN_PASSWORD before the first start).",
    );
  }

  const app = createApp(deps);
  const isTrustedProxy = trustedProxyMatcher(config.trusted_proxies);
  const server = Bun.serve({
    hostname: config.addr.hostname,
    port: config.addr.port,
    // The one place the client address is derived: the peer, or what a trusted proxy forwarded.
    fetch: (request, srv) =>
      app.fetch(
        request,
        resolveClient(srv.requestIP(request)?.address, request.headers, isTrustedProxy),
      ),
    // Long polls wait up to 30 s and SSE streams send keep-alives every 15 s.
    idleTimeout: 75,
    ...(tls && config.tls_key
      ? {
          tls: { cert: readFileSync(config.tls_cert as string), key: readFileSync(config.tls_key) },
        }
      : {}),
  });
  const url = displayUrl(
    { hostname: config.addr.hostname, port: server.port ?? config.addr.port },
    tls ? "https" : "http",
  );
  logger.info(`listening on ${url}`, { data_dir: config.data_dir, version: deps.version });

  const sweep = () =>
    runSweeps(deps).catch((error: Error) => logger.error("sweep failed", { error: error.message }));
  // Leases first: the time this hub was down must not count against its agents.
  await renewLeasesAfterOutage(deps);
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  void sweep();

  const { stop, stopped } = stopOnSignals(logger, async () => {
    clearInterval(timer);
    const closing = server.stop();
    deps.notifier.notifyAll(); // long polls answer now instead of holding shutdown
    await Promise.race([closing, Bun.sleep(5_000)]);
    await server.stop(true);
    await database.close();
  });
  return { url, deps, stop, stopped };
}
