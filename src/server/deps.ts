/**
 * Everything the hub's services and routes need, built once by createHubDeps — for
 * start.ts and for tests alike — and passed down: no module-level singletons. The
 * store, notifier and event bus are interfaces, so a replica-aware set (PostgreSQL
 * store, LISTEN/NOTIFY wake-ups and events) slots in here without touching a service.
 */
import { buildInfo } from "../shared/build-info.ts";
import { FailureThrottle } from "../shared/failure-throttle.ts";
import type { Logger } from "../shared/log.ts";
import { MAX_DOWNLOAD_CHUNK_BYTES } from "../shared/protocol/agent.ts";
import type { RepositoryRow } from "./db/records.ts";
import type { Store } from "./db/store.ts";
import { type AgentCredentials, InMemoryAgentCredentials } from "./services/agent-credentials.ts";
import { type DownloadDirectory, LocalDownloadDirectory } from "./services/download-directory.ts";
import { DownloadRelays } from "./services/download-relay.ts";
import { ScheduleGapCache } from "./services/freshness.ts";
import { HeartbeatBatch } from "./services/heartbeat-batch.ts";
import { InMemoryJobEventBus, type JobEventBus } from "./services/job-events.ts";
import { InMemoryJobNotifier, type JobNotifier } from "./services/job-notifier.ts";
import { HubMetrics } from "./services/metrics.ts";
import { NotificationWakeup } from "./services/notification-wakeup.ts";
import type { SecretBox } from "./services/secret-box.ts";
import { type Clock, systemClock } from "./services/time.ts";

export interface HubSettings {
  pollIntervalSeconds: number;
  heartbeatIntervalSeconds: number;
  /** An agent with no heartbeat for this long is marked offline. */
  offlineAfterMs: number;
  /** A claimed/running job whose lease is not renewed for this long is failed ("agent lost"). */
  leaseMs: number;
  sessionTtlMs: number;
  /**
   * Every session cookie gets the Secure flag (set when the hub serves TLS or public_url
   * is https); otherwise only those for requests a trusted proxy marks as https.
   */
  secureCookies: boolean;
  /** public_url's origin ("https://hub.example.com"), accepted as a request's Origin (CSRF). */
  publicOrigin?: string;
  /** public_url as configured: notifications link to the hub's pages under it. */
  publicUrl?: string;
  /**
   * The archive listing cache (archive.browse) keeps at most this many entries over all
   * archives; the least recently browsed listings are evicted first.
   */
  archiveCacheMaxEntries: number;
  /** download_max_bytes: the largest file one download streams through the hub; 0: none. */
  downloadMaxBytes: number;
  /** replica_url: where the other replicas reach this one (a download's chunks are handed on). */
  replicaUrl?: string;
  /** metrics_token: a bearer token that may read GET /metrics (and nothing else). */
  metricsToken?: string;
  /** box_low_space_percent: free/total below this (percent) publishes box.low_space; 0: never. */
  boxLowSpacePercent: number;
}

export const DEFAULT_SETTINGS: HubSettings = {
  pollIntervalSeconds: 15,
  heartbeatIntervalSeconds: 30,
  offlineAfterMs: 2 * 60_000,
  leaseMs: 5 * 60_000,
  sessionTtlMs: 12 * 60 * 60_000,
  secureCookies: false,
  archiveCacheMaxEntries: 5_000_000,
  downloadMaxBytes: 1024 * 1024 * 1024,
  boxLowSpacePercent: 10,
};

export interface HubDeps {
  store: Store;
  logger: Logger;
  clock: Clock;
  secretBox: SecretBox;
  settings: HubSettings;
  notifier: JobNotifier;
  events: JobEventBus;
  /** Wakes this process's notification sender after a publish (services/hub-events.ts). */
  notificationWakeup: NotificationWakeup;
  /** Verified agent credentials (services/agent-credentials.ts), invalidated on every replica. */
  credentials: AgentCredentials;
  /** Heartbeats deferred into one write per second (services/heartbeat-batch.ts). */
  heartbeats: HeartbeatBatch;
  /** Login failures per address, per address+username and per username (services/auth.ts). */
  loginThrottle: FailureThrottle;
  /** Failed agent credentials per address. */
  agentAuthThrottle: FailureThrottle;
  /** Waits before answering a refused credential (tests pass a no-op). */
  sleep: (ms: number) => Promise<void>;
  version: string;
  /**
   * Called once per transition of a repository into overdue (services/freshness.ts), by
   * the one replica whose guarded UPDATE stored it, with the row as stored and the time
   * it became overdue (epoch ms). Notifications hook in here; a throw is logged, never
   * retried (the transition is stored either way). Default: does nothing.
   */
  onRepositoryOverdue: RepositoryOverdueListener;
  /** The hub's Prometheus registry (services/metrics.ts): HTTP counts, job durations. */
  metrics: HubMetrics;
  /** Plan schedules' longest gaps, reused for hours (services/freshness.ts). */
  scheduleGaps: ScheduleGapCache;
  /** Downloads whose browser waits on this process (services/download-relay.ts). */
  downloads: DownloadRelays;
  /** Which replica holds another download's browser (services/download-directory.ts). */
  downloadDirectory: DownloadDirectory;
}

export type RepositoryOverdueListener = (
  repository: RepositoryRow,
  since: number,
) => void | Promise<void>;

/** What the hub is built from; everything but the store, logger and secret box has a default. */
export interface HubDepsInputs {
  store: Store;
  logger: Logger;
  secretBox: SecretBox;
  /** Over DEFAULT_SETTINGS. */
  settings?: Partial<HubSettings>;
  /** Default: the system clock. The throttles count time by it too. */
  clock?: Clock;
  /** Default: Bun.sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Default: in memory, for one hub process. */
  notifier?: JobNotifier;
  /** Default: in memory, for one hub process. */
  events?: JobEventBus;
  /** Default: in memory, for one hub process. */
  credentials?: AgentCredentials;
  /** Default: this process only. */
  downloadDirectory?: DownloadDirectory;
  /** Default: the build's version. */
  version?: string;
  /** Default: no-op. */
  onRepositoryOverdue?: RepositoryOverdueListener;
}

export function createHubDeps(inputs: HubDepsInputs): HubDeps {
  const clock = inputs.clock ?? systemClock;
  return {
    store: inputs.store,
    logger: inputs.logger,
    clock,
    secretBox: inputs.secretBox,
    settings: { ...DEFAULT_SETTINGS, ...inputs.settings },
    notifier: inputs.notifier ?? new InMemoryJobNotifier(),
    events: inputs.events ?? new InMemoryJobEventBus(),
    notificationWakeup: new NotificationWakeup(),
    credentials: inputs.credentials ?? new InMemoryAgentCredentials(),
    heartbeats: new HeartbeatBatch(),
    loginThrottle: new FailureThrottle({ now: clock }),
    agentAuthThrottle: new FailureThrottle({ now: clock }),
    sleep: inputs.sleep ?? ((ms) => Bun.sleep(ms)),
    version: inputs.version ?? buildInfo().version,
    onRepositoryOverdue: inputs.onRepositoryOverdue ?? (() => {}),
    metrics: new HubMetrics(),
    scheduleGaps: new ScheduleGapCache(),
    downloads: new DownloadRelays(MAX_DOWNLOAD_CHUNK_BYTES),
    downloadDirectory: inputs.downloadDirectory ?? new LocalDownloadDirectory(),
  };
}
