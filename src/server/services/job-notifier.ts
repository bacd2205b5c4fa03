/**
 * Wakes long-polling agents the moment a job is queued for them, and remembers which
 * agents have no queued work, so that an idle fleet's polls cost no query at all.
 * JobNotifier is what the services use (deps.notifier); InMemoryJobNotifier serves one hub
 * process. Hub replicas on one database share the signal over PostgreSQL LISTEN/NOTIFY
 * (db/pg/job-signals.ts), implementing the same interface on top of this one.
 *
 * Idle knowledge: a queued-work lookup that found nothing records the agent as idle
 * (`recordIdle`), unless a notify for it came while the lookup ran (the lookup's ticket
 * says so). Every path that makes a job queued for an agent notifies it (queueing, the
 * scheduler, plans, a requeue by the lease sweep; on another replica, through NOTIFY),
 * and a notify forgets the agent's idleness; `notifyAll` (shutdown, a LISTEN reconnect
 * after which signals may have been missed) forgets everyone's. The knowledge is trusted
 * for IDLE_TRUST_MS only: a wake-up lost anyway (a failed NOTIFY, a second hub process on
 * one SQLite file) delays the agent's job by at most that, never loses it.
 *
 * Waiting: an open poll holds one waiter record (in a Set only when its agent holds
 * several). One shared timer
 * (running only while someone waits) ends waits whose time is up and frees those whose
 * request went away (`signal.aborted`), so a poll allocates no timer, AbortController or
 * listener of its own.
 */
export interface JobNotifier {
  /**
   * Resolves true on notify(agentMachineId) (from any replica); false when `ms` passed
   * or `signal` aborted (noticed within WAIT_TICK_MS).
   */
  wait(agentMachineId: number, ms: number, signal?: AbortSignal): Promise<boolean>;
  /**
   * Wakes the agent's waiters and forgets that it was idle. Fire and forget: a
   * replica-aware implementation sends the signal in the background, and a lost one
   * only delays the agent by at most IDLE_TRUST_MS.
   */
  notify(agentMachineId: number): void;
  /** Wakes every waiter of this process and forgets all idle knowledge (shutdown, reconnect). */
  notifyAll(): void;
  /** True while this process knows the agent has no queued job (no lookup needed). */
  knownIdle(agentMachineId: number): boolean;
  /** Take before a queued-work lookup; hand to recordIdle when it found nothing. */
  lookupTicket(agentMachineId: number): number;
  /**
   * Records that a lookup begun with `ticket` found no queued job. False (nothing
   * recorded) when the agent was notified since: the lookup may have missed that job.
   */
  recordIdle(agentMachineId: number, ticket: number): boolean;
  /** How many waits this process holds now (shutdown, tests). */
  readonly waiting: number;
}

/** How long a lookup's "nothing queued" is trusted without a notify (see the header). */
export const IDLE_TRUST_MS = 60_000;
/** How often the shared timer ends due waits and frees abandoned ones. */
export const WAIT_TICK_MS = 250;
/** A bound on the idle map (one entry per polling agent); beyond it, forget and relearn. */
const MAX_IDLE_ENTRIES = 1_000_000;

/** One open poll. */
interface Waiter {
  deadline: number;
  signal: AbortSignal | undefined;
  resolve: (woken: boolean) => void;
}

export class InMemoryJobNotifier implements JobNotifier {
  /** Agent → its one waiter (the common case, no Set), or a Set when it holds several. */
  private readonly waiters = new Map<number, Waiter | Set<Waiter>>();
  private count = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Agent → when a lookup last found nothing for it (performance.now()). */
  private readonly idleSince = new Map<number, number>();
  /** A sequence number per notify; agent → the number of its latest notify. */
  private sequence = 0;
  private readonly lastNotified = new Map<number, number>();
  /** The sequence number of the latest notifyAll: tickets before it are void. */
  private forgotAt = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  wait(agentMachineId: number, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const waiter: Waiter = { deadline: this.now() + ms, signal, resolve };
    const held = this.waiters.get(agentMachineId);
    if (held === undefined) this.waiters.set(agentMachineId, waiter);
    else if (held instanceof Set) held.add(waiter);
    else this.waiters.set(agentMachineId, new Set([held, waiter]));
    this.count++;
    this.timer ??= setTimeout(() => this.tick(), WAIT_TICK_MS);
    return promise;
  }

  notify(agentMachineId: number): void {
    this.idleSince.delete(agentMachineId);
    this.lastNotified.set(agentMachineId, ++this.sequence);
    const held = this.waiters.get(agentMachineId);
    if (held === undefined) return;
    this.waiters.delete(agentMachineId);
    if (held instanceof Set) {
      this.count -= held.size;
      for (const waiter of held) waiter.resolve(true);
    } else {
      this.count--;
      held.resolve(true);
    }
  }

  notifyAll(): void {
    this.idleSince.clear();
    this.forgotAt = ++this.sequence;
    this.lastNotified.clear();
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }

  knownIdle(agentMachineId: number): boolean {
    const since = this.idleSince.get(agentMachineId);
    if (since === undefined) return false;
    if (this.now() - since < IDLE_TRUST_MS) return true;
    this.idleSince.delete(agentMachineId);
    return false;
  }

  lookupTicket(_agentMachineId: number): number {
    return this.sequence;
  }

  recordIdle(agentMachineId: number, ticket: number): boolean {
    if (ticket < this.forgotAt || (this.lastNotified.get(agentMachineId) ?? -1) > ticket) {
      return false;
    }
    if (this.idleSince.size >= MAX_IDLE_ENTRIES) this.idleSince.clear();
    this.idleSince.set(agentMachineId, this.now());
    return true;
  }

  get waiting(): number {
    return this.count;
  }

  /** Ends due and abandoned waits; runs again while anyone still waits. */
  private tick(): void {
    this.timer = undefined;
    const now = this.now();
    const ended = (waiter: Waiter) => waiter.deadline <= now || waiter.signal?.aborted === true;
    for (const [agentMachineId, held] of this.waiters) {
      if (!(held instanceof Set)) {
        if (ended(held)) {
          this.waiters.delete(agentMachineId);
          this.count--;
          held.resolve(false);
        }
        continue;
      }
      for (const waiter of held) {
        if (ended(waiter)) {
          held.delete(waiter);
          this.count--;
          waiter.resolve(false);
        }
      }
      if (held.size === 0) this.waiters.delete(agentMachineId);
    }
    if (this.count > 0) this.timer = setTimeout(() => this.tick(), WAIT_TICK_MS);
  }
}
