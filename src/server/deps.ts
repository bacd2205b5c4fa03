/**
 * Everything the hub's services and routes need, built once by start.ts (or by a test)
 * and passed down: no module-level singletons.
 */
import type { FailureThrottle } from "../shared/failure-throttle.ts";
import type { Logger } from "../shared/log.ts";
import type { Store } from "./db/store.ts";
import type { JobEventBus } from "./services/job-events.ts";
import type { JobNotifier } from "./services/job-notifier.ts";
import type { SecretBox } from "./services/secret-box.ts";
import type { Clock } from "./services/time.ts";

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
}

export const DEFAULT_SETTINGS: HubSettings = {
  pollIntervalSeconds: 15,
  heartbeatIntervalSeconds: 30,
  offlineAfterMs: 2 * 60_000,
  leaseMs: 5 * 60_000,
  sessionTtlMs: 12 * 60 * 60_000,
  secureCookies: false,
};

export interface HubDeps {
  store: Store;
  logger: Logger;
  clock: Clock;
  secretBox: SecretBox;
  settings: HubSettings;
  notifier: JobNotifier;
  events: JobEventBus;
  /** Login failures per address, per address+username and per username (services/auth.ts). */
  loginThrottle: FailureThrottle;
  /** Failed agent credentials per address. */
  agentAuthThrottle: FailureThrottle;
  /** Waits before answering a refused credential (tests pass a no-op). */
  sleep: (ms: number) => Promise<void>;
  version: string;
}
