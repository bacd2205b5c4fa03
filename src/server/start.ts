/**
 * Composition root of `borgctl server`: opens the database (SQLite in the data dir, or
 * PostgreSQL when database_url is set; migrations applied), loads or creates the secret
 * key and checks it against the database's check value, creates the first admin, serves
 * the app, runs the periodic sweeps (offline agents, expired job leases), the plan
 * scheduler (services/scheduler.ts) and the notification sender
 * (services/notification-sender.ts), and on
 * SIGTERM/SIGINT releases long polls, stops the server and closes the database.
 *
 * With PostgreSQL several of these processes serve one fleet: wake-ups and job events
 * travel over LISTEN/NOTIFY (db/pg/job-signals.ts), and the sweeps are guarded UPDATEs,
 * so each runs on every replica and each expiry still lands once.
 */
import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { displayUrl } from "../shared/config/addr.ts";
import type { HubConfig } from "../shared/config/hub.ts";
import { stopOnSignals } from "../shared/lifecycle.ts";
import type { Logger } from "../shared/log.ts";
import { createApp } from "./app.ts";
import { redactDatabaseUrl } from "./db/pg/connect.ts";
import { PgAgentCredentials } from "./db/pg/credential-signals.ts";
import { PgDownloadDirectory } from "./db/pg/download-signals.ts";
import { PgJobEventBus, PgJobNotifier } from "./db/pg/job-signals.ts";
import { openPgStore } from "./db/pg/store.ts";
import { verifySecretKey } from "./db/secret-key-check.ts";
import { openSqliteStore } from "./db/sqlite/store.ts";
import type { Store } from "./db/store.ts";
import { createHubDeps, type HubDeps } from "./deps.ts";
import { resolveClient, trustedProxyMatcher } from "./http/client-address.ts";
import type { AgentCredentials } from "./services/agent-credentials.ts";
import { bootstrapAdmin } from "./services/auth.ts";
import { BOX_REFRESH_INTERVAL_MS, refreshAllBoxes } from "./services/boxes.ts";
import type { DownloadDirectory } from "./services/download-directory.ts";
import { flushHeartbeats } from "./services/heartbeat-batch.ts";
import type { JobEventBus } from "./services/job-events.ts";
import { jobLogJson } from "./services/job-json.ts";
import type { JobNotifier } from "./services/job-notifier.ts";
import { renewLeasesAfterOutage } from "./services/job-sweeper.ts";
import { startNotificationSender } from "./services/notification-sender.ts";
import { nextWakeAt, runScheduler } from "./services/scheduler.ts";
import { SecretBox } from "./services/secret-box.ts";
import { runSweeps } from "./services/sweeps.ts";

export const DATABASE_FILE = "borgctl.sqlite";
export const SECRET_KEY_FILE = "secret.key";
const SWEEP_INTERVAL_MS = 15_000;
/** How often due plans are looked for (well inside the scheduler's ON_TIME_MS). */
const SCHEDULER_INTERVAL_MS = 15_000;

export interface RunningHub {
  url: string;
  deps: HubDeps;
  stop(): Promise<void>;
  stopped: Promise<void>;
}

/** The hub's database, opened and migrated, with the wake-up and event channels it needs. */
export interface HubDatabase {
  store: Store;
  applied: string[];
  /** "sqlite <path>" or the PostgreSQL URL without its password. */
  description: string;
  /** Replica-aware channels (PostgreSQL); undefined: in memory, one process. */
  notifier?: JobNotifier;
  events?: JobEventBus;
  credentials?: AgentCredentials;
  downloads?: DownloadDirectory;
  close(): Promise<void>;
}

/**
 * Opens the store `config` names and, for PostgreSQL, subscribes its LISTEN channels.
 * Throws DatabaseUnreachableError (db/pg/connect.ts) when PostgreSQL cannot be reached.
 */
export async function openHubDatabase(config: HubConfig, logger: Logger): Promise<HubDatabase> {
  mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
  const url = config.database_url;
  if (url === undefined) {
    const databasePath = join(config.data_dir, DATABASE_FILE);
    const database = openSqliteStore(databasePath, {
      onWarning: (message) => logger.warn(message, { database: databasePath }),
      onCheckpointerReady: () =>
        logger.debug("WAL checkpoints run on their own thread", { database: databasePath }),
    });
    // Hashes, audit trail and encrypted passphrases: owner only (SQLite gives -wal/-shm the same mode).
    chmodSync(databasePath, 0o600);
    return {
      store: database.store,
      applied: database.applied,
      description: `sqlite ${databasePath}`,
      close: () => database.close(),
    };
  }
  const database = await openPgStore(url);
  const notifier = new PgJobNotifier(database.pool, logger);
  const events = new PgJobEventBus(database.pool, logger, async (jobId, sequence) => {
    const [line] = await database.store.jobs.logs(jobId, sequence - 1, 1);
    return line?.sequence === sequence ? jobLogJson(line) : undefined;
  });
  const credentials = new PgAgentCredentials(database.pool, logger);
  const downloads = new PgDownloadDirectory(database.pool, logger);
  try {
    await notifier.start();
    await events.start();
    await credentials.start();
    await downloads.start();
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    store: database.store,
    applied: database.applied,
    description: redactDatabaseUrl(url),
    notifier,
    events,
    credentials,
    downloads,
    async close() {
      await notifier.close().catch(() => {});
      await events.close().catch(() => {});
      await credentials.close().catch(() => {});
      await downloads.close().catch(() => {});
      await database.close();
    },
  };
}

/** The secret key from config, or the key file in the data dir (created on first start). */
export function loadSecretBox(config: HubConfig): SecretBox {
  return config.secret_key
    ? SecretBox.fromText(config.secret_key)
    : SecretBox.fromFile(join(config.data_dir, SECRET_KEY_FILE));
}

/** `borgctl server --check-database`: reach, migrate and key-check the database, then close. */
export async function checkDatabase(
  config: HubConfig,
  logger: Logger,
): Promise<{ description: string; applied: string[] }> {
  const database = await openHubDatabase(config, logger);
  try {
    await verifySecretKey(database.store, loadSecretBox(config), Date.now());
    return { description: database.description, applied: database.applied };
  } finally {
    await database.close();
  }
}

export async function startHub(
  config: HubConfig,
  options: { logger: Logger; announce: (text: string) => void },
): Promise<RunningHub> {
  const { logger } = options;
  const database = await openHubDatabase(config, logger);
  if (database.applied.length > 0)
    logger.info("database migrated", { applied: database.applied.join(",") });
  const secretBox = loadSecretBox(config);
  try {
    // Before anything is served: a replica with another key must not write with it.
    await verifySecretKey(database.store, secretBox, Date.now());
  } catch (error) {
    await database.close();
    throw error;
  }
  const tls = config.tls_cert !== undefined;
  const publicUrl = config.public_url === undefined ? undefined : new URL(config.public_url);
  const deps = createHubDeps({
    store: database.store,
    logger,
    secretBox,
    notifier: database.notifier,
    events: database.events,
    credentials: database.credentials,
    downloadDirectory: database.downloads,
    settings: {
      // Browsers reach the hub over https when it serves TLS or when its public URL says so.
      secureCookies: tls || publicUrl?.protocol === "https:",
      // A URL without an http(s) origin (its origin is "null") never matches a request's Origin.
      publicOrigin: publicUrl?.origin === "null" ? undefined : publicUrl?.origin,
      publicUrl: config.public_url,
      metricsToken: config.metrics_token,
      boxLowSpacePercent: config.box_low_space_percent,
      downloadMaxBytes: config.download_max_bytes,
      replicaUrl: config.replica_url,
    },
  });

  const boot = await bootstrapAdmin(deps, config.admin_password);

  const app = createApp(deps);
  const isTrustedProxy = trustedProxyMatcher(config.trusted_proxies);
  const server = Bun.serve({
    hostname: config.addr.hostname,
    port: config.addr.port,
    // The one place the client address is derived: the peer, or what a trusted proxy forwarded.
    fetch: (request, srv) =>
      app.fetch(request, {
        ...resolveClient(srv.requestIP(request)?.address, request.headers, isTrustedProxy),
        keepOpen: () => srv.timeout(request, 0),
      }),
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
  const sweep = () =>
    runSweeps(deps).catch((error: Error) => logger.error("sweep failed", { error: error.message }));
  // Leases first: the time this hub was down must not count against its agents.
  await renewLeasesAfterOutage(deps);
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  void sweep();
  // Due plans: each due time is claimed with a guarded UPDATE, so every replica may run this.
  // Besides the regular pass, one wake-up at the soonest coming due time (at least 1 s
  // apart, so an every-second schedule does not spin), so plans start on time.
  let scheduling = false;
  let wake: ReturnType<typeof setTimeout> | undefined;
  let stopping = false;
  const schedule = async () => {
    if (scheduling || stopping) return; // a slow pass is not overlapped by the next tick
    scheduling = true;
    try {
      await runScheduler(deps);
      const next = nextWakeAt(await deps.store.plans.list(), deps.clock());
      clearTimeout(wake);
      const wait = next === undefined ? undefined : next - deps.clock();
      if (wait !== undefined && wait < SCHEDULER_INTERVAL_MS && !stopping) {
        wake = setTimeout(schedule, Math.max(wait + 50, 1_000));
      }
    } catch (error) {
      logger.error("scheduler pass failed", { error: (error as Error).message });
    } finally {
      scheduling = false;
    }
  };
  const schedulerTimer = setInterval(schedule, SCHEDULER_INTERVAL_MS);
  void schedule();
  // The notification outbox: claims are guarded UPDATEs, so every replica runs a sender.
  const sender = startNotificationSender(deps);

  // Storage boxes: status, space, host keys and repo lists, once a minute.
  let refreshingBoxes = false;
  const refreshBoxes = async () => {
    if (refreshingBoxes) return;
    refreshingBoxes = true;
    try {
      await refreshAllBoxes(deps);
    } catch (error) {
      logger.error("box refresh failed", { error: (error as Error).message });
    } finally {
      refreshingBoxes = false;
    }
  };
  const boxTimer = setInterval(refreshBoxes, BOX_REFRESH_INTERVAL_MS);
  void refreshBoxes();

  const { stop, stopped } = stopOnSignals(logger, async () => {
    clearInterval(timer);
    stopping = true;
    clearInterval(schedulerTimer);
    clearInterval(boxTimer);
    clearTimeout(wake);
    await sender.stop();
    const closing = server.stop();
    deps.notifier.notifyAll(); // long polls answer now instead of holding shutdown
    await Promise.race([closing, Bun.sleep(5_000)]);
    await server.stop(true);
    await flushHeartbeats(deps); // the last second's coalesced heartbeats
    await database.close();
  });
  // Announced once SIGTERM/SIGINT stop it gracefully: a service manager (or a test) that
  // stops the hub the moment it says it is listening must not kill it mid-start.
  logger.info(`listening on ${url}`, {
    data_dir: config.data_dir,
    database: database.description,
    version: deps.version,
  });
  if (boot.generatedPassword) {
    // Once the address is known, so the newcomer is told where to go and what to do there.
    options.announce(
      `First start: created user "admin" with password ${boot.generatedPassword}\n` +
        "It is shown only this once: sign in and change it (or set BORGCTL_ADMIN_PASSWORD before the first start).\n" +
        `Next: open ${config.public_url ?? url} in a browser, sign in as admin, then Machines → Add machine.`,
    );
  }
  return { url, deps, stop, stopped };
}
