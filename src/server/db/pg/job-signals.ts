/**
 * The replica-aware JobNotifier and JobEventBus (services/job-notifier.ts, job-events.ts)
 * on PostgreSQL LISTEN/NOTIFY. Each hub process keeps its own waiters and subscribers in
 * memory (the in-memory implementations, reused) and relays through two channels:
 *   borgctl_job_queued  payload "<replica>:<agentMachineId>"  wakes that agent's long polls
 *   borgctl_job_events  payload JSON {r, j, e} (or {r, j, log} for an oversized log line)
 * A replica delivers its own signals at once, in process, and ignores their echo.
 *
 * Lifecycle: start() subscribes (Bun.SQL keeps one dedicated LISTEN connection per pool,
 * reconnects it with backoff and re-subscribes); close() unsubscribes. Sends are fire and
 * forget, batched per tick into one statement; a failed send is logged, never thrown. A
 * signal lost while the LISTEN connection was down could leave an agent recorded as idle
 * (services/job-notifier.ts: trusted for IDLE_TRUST_MS at most), so on every re-subscribe
 * all idle knowledge is forgotten and all local waiters are woken to re-check at once.
 * Events missed in such a gap are not replayed: the job view is a live tail over what
 * the database holds.
 */
import type { Logger } from "../../../shared/log.ts";
import { InMemoryJobEventBus, type JobEvent, type JobEventBus } from "../../services/job-events.ts";
import {
  InMemoryJobNotifier,
  type JobNotifier,
  type WatchedStatus,
} from "../../services/job-notifier.ts";

export const QUEUED_CHANNEL = "borgctl_job_queued";
export const EVENTS_CHANNEL = "borgctl_job_events";
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; keep a margin. */
const MAX_PAYLOAD_BYTES = 7900;

const replicaId = () => crypto.randomUUID().slice(0, 8);

/** Collects payloads for one channel and sends them in one statement per tick. */
export class NotifyBatcher {
  private pending: string[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Bun.SQL,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  send(payload: string): void {
    this.pending.push(payload);
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => this.flush(), 0);
  }

  /** Resolves when everything sent so far has reached PostgreSQL (or failed). */
  async drain(): Promise<void> {
    while (this.scheduled || this.pending.length > 0) await Bun.sleep(1);
    await this.inFlight;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    // unnest keeps the array's order, and NOTIFYs of one statement arrive in order.
    this.inFlight = this.inFlight.then(() =>
      this
        .pool`SELECT pg_notify(${this.channel}, p) FROM unnest(${batch}::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n`.then(
        () => {},
        (error: Error) =>
          this.logger.warn("could not signal other hub replicas", {
            channel: this.channel,
            error: error.message,
          }),
      ),
    );
  }
}

export class PgJobNotifier implements JobNotifier {
  private readonly local = new InMemoryJobNotifier();
  private readonly replica = replicaId();
  private readonly sender: NotifyBatcher;
  private subscription: Bun.SQL.ListenSubscription | undefined;

  constructor(
    private readonly pool: Bun.SQL,
    logger: Logger,
  ) {
    this.sender = new NotifyBatcher(pool, QUEUED_CHANNEL, logger);
  }

  async start(): Promise<void> {
    let first = true;
    this.subscription = await this.pool.listen(
      QUEUED_CHANNEL,
      (payload) => {
        const [from, id] = payload.split(":");
        if (from === this.replica) return;
        const agentMachineId = Number(id);
        if (Number.isInteger(agentMachineId)) this.local.notify(agentMachineId);
      },
      () => {
        // After a reconnect, signals sent while the connection was down are gone.
        if (!first) this.local.notifyAll();
        first = false;
      },
    );
  }

  wait(agentMachineId: number, ms: number, signal?: AbortSignal): Promise<boolean> {
    return this.local.wait(agentMachineId, ms, signal);
  }

  // What is known of agents is local: a NOTIFY from any replica forgets it (local.notify).
  knownNone(agentMachineId: number, status: WatchedStatus): boolean {
    return this.local.knownNone(agentMachineId, status);
  }

  lookupTicket(agentMachineId: number): number {
    return this.local.lookupTicket(agentMachineId);
  }

  recordNone(agentMachineId: number, status: WatchedStatus, ticket: number): boolean {
    return this.local.recordNone(agentMachineId, status, ticket);
  }

  noneLongerThan(status: WatchedStatus, ms: number): number[] {
    return this.local.noneLongerThan(status, ms);
  }

  notify(agentMachineId: number): void {
    this.local.notify(agentMachineId);
    this.sender.send(`${this.replica}:${agentMachineId}`);
  }

  notifyAll(): void {
    this.local.notifyAll();
  }

  get waiting(): number {
    return this.local.waiting;
  }

  async close(): Promise<void> {
    await this.sender.drain();
    await this.subscription?.unlisten();
    this.subscription = undefined;
  }
}

/** Reads one stored log line back, for an event too large to travel in a NOTIFY. */
export type LogLineReader = (
  jobId: number,
  sequence: number,
) => Promise<Extract<JobEvent, { type: "log" }>["data"] | undefined>;

export class PgJobEventBus implements JobEventBus {
  private readonly local = new InMemoryJobEventBus();
  private readonly replica = replicaId();
  private readonly sender: NotifyBatcher;
  private subscription: Bun.SQL.ListenSubscription | undefined;

  constructor(
    private readonly pool: Bun.SQL,
    private readonly logger: Logger,
    private readonly readLogLine: LogLineReader,
  ) {
    this.sender = new NotifyBatcher(pool, EVENTS_CHANNEL, logger);
  }

  async start(): Promise<void> {
    this.subscription = await this.pool.listen(EVENTS_CHANNEL, (payload) => this.receive(payload));
  }

  subscribe(jobId: number, listener: (event: JobEvent) => void): () => void {
    return this.local.subscribe(jobId, listener);
  }

  publish(jobId: number, event: JobEvent): void {
    this.local.publish(jobId, event);
    const payload = JSON.stringify({ r: this.replica, j: jobId, e: event });
    if (Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES) {
      this.sender.send(payload);
    } else if (event.type === "log") {
      // The line is stored before it is published: other replicas read it back.
      this.sender.send(JSON.stringify({ r: this.replica, j: jobId, log: event.data.sequence }));
    } else {
      this.logger.debug("job event too large to relay to other replicas", {
        job_id: jobId,
        type: event.type,
      });
    }
  }

  async close(): Promise<void> {
    await this.sender.drain();
    await this.subscription?.unlisten();
    this.subscription = undefined;
  }

  private receive(payload: string): void {
    let message: { r?: unknown; j?: unknown; e?: JobEvent; log?: unknown };
    try {
      message = JSON.parse(payload);
    } catch {
      return;
    }
    if (message.r === this.replica || typeof message.j !== "number") return;
    const jobId = message.j;
    if (message.e) {
      this.local.publish(jobId, message.e);
    } else if (typeof message.log === "number") {
      const sequence = message.log;
      this.readLogLine(jobId, sequence).then(
        (data) => data && this.local.publish(jobId, { type: "log", data }),
        (error: Error) =>
          this.logger.warn("could not read a relayed log line", {
            job_id: jobId,
            error: error.message,
          }),
      );
    }
  }
}
