/**
 * Wakes long-polling agents the moment a job is queued for them, and remembers which
 * agents have no queued work and no cancel request, so that an idle fleet's polls and
 * heartbeats cost no query at all. JobNotifier is what the services use (deps.notifier);
 * InMemoryJobNotifier serves one hub process. Hub replicas on one database share the
 * signal over PostgreSQL LISTEN/NOTIFY (db/pg/job-signals.ts), implementing the same
 * interface on top of this one.
 *
 * Knowledge ("none"): a lookup of an agent's jobs in a watched status (queued for its
 * polls, cancel_requested for its heartbeats) that found none records that
 * (`recordNone`), unless a notify for the agent came while the lookup ran (the lookup's
 * ticket says so). Every path that puts an agent's job into a watched status notifies
 * the agent (queueing, the scheduler, plans, a requeue by the lease sweep, a cancel
 * request; on another replica, through NOTIFY), and a notify forgets what was known of
 * it; `notifyAll` (shutdown, a LISTEN reconnect after which signals may have been
 * missed) forgets everyone's. The knowledge is trusted for IDLE_TRUST_MS only: a wake-up
 * lost anyway (a failed NOTIFY, a second hub process on one SQLite file) delays the
 * agent's job or cancel by at most that, never loses it. Before it runs out, the periodic
 * sweep confirms the older entries with one query per status for the whole table
 * (services/trust-refresh.ts), and notifies an agent found to have such a job after all:
 * so an idle fleet stays free of these queries however long it idles.
 *
 * Waiting: an open poll holds one waiter record (in a Set only when its agent holds
 * several) and one entry in a min-heap of deadlines. One shared timer, running only while
 * someone waits, is set for the earliest deadline, so a wait ends on time (within the
 * event loop's delay) however many are open, and a poll allocates no timer,
 * AbortController or listener of its own. A wait whose request went away
 * (`signal.aborted`) ends at its deadline, or sooner when its agent waits again (the
 * usual case: an agent that lost its connection polls anew), which frees its abandoned
 * waits first; nothing scans the open waits. A woken or freed waiter's heap entry is
 * dropped when it reaches the top.
 */
import TinyQueue from "tinyqueue";

/** The job statuses whose absence per agent the notifier remembers. */
export type WatchedStatus = "queued" | "cancel_requested";
export const WATCHED_STATUSES: readonly WatchedStatus[] = ["queued", "cancel_requested"];

export interface JobNotifier {
  /**
   * Resolves true on notify(agentMachineId) (from any replica); false when `ms` passed
   * or `signal` aborted (noticed by the agent's next wait, else at the deadline).
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
  /** True while this process knows the agent has no job in `status` (no lookup needed). */
  knownNone(agentMachineId: number, status: WatchedStatus): boolean;
  /** Take before a lookup of the agent's jobs; hand to recordNone when it found none. */
  lookupTicket(agentMachineId: number): number;
  /**
   * Records that a lookup begun with `ticket` found no job of the agent in `status`. False
   * (nothing recorded) when the agent was notified since: the lookup may have missed it.
   */
  recordNone(agentMachineId: number, status: WatchedStatus, ticket: number): boolean;
  /**
   * The agents known to have no job in `status` for longer than `ms`, to be confirmed
   * in bulk before that trust runs out (services/trust-refresh.ts).
   */
  noneLongerThan(status: WatchedStatus, ms: number): number[];
  /** How many waits this process holds now (shutdown, tests). */
  readonly waiting: number;
}

/** How long a lookup's "none" is trusted without a notify (see the header). */
export const IDLE_TRUST_MS = 60_000;
/** A bound on each knowledge map (one entry per agent); beyond it, forget and relearn. */
const MAX_KNOWN_ENTRIES = 1_000_000;

/** One open poll. */
interface Waiter {
  agentMachineId: number;
  deadline: number;
  signal: AbortSignal | undefined;
  resolve: (woken: boolean) => void;
  /** Woken, timed out or freed: its heap entry is stale. */
  settled: boolean;
}

export class InMemoryJobNotifier implements JobNotifier {
  /** Agent → its one waiter (the common case, no Set), or a Set when it holds several. */
  private readonly waiters = new Map<number, Waiter | Set<Waiter>>();
  /** Every open wait by deadline (plus settled ones not yet at the top). */
  private readonly deadlines = new TinyQueue<Waiter>([], (a, b) => a.deadline - b.deadline);
  private count = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer is set to fire (performance.now()). */
  private timerAt = Number.POSITIVE_INFINITY;
  /** Per watched status: agent → when a lookup last found none (performance.now()). */
  private readonly noneSince: Record<WatchedStatus, Map<number, number>> = {
    queued: new Map(),
    cancel_requested: new Map(),
  };
  /** A sequence number per notify; agent → the number of its latest notify. */
  private sequence = 0;
  private readonly lastNotified = new Map<number, number>();
  /** The sequence number of the latest notifyAll: tickets before it are void. */
  private forgotAt = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  wait(agentMachineId: number, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const now = this.now();
    const waiter: Waiter = { agentMachineId, deadline: now + ms, signal, resolve, settled: false };
    this.freeAbandoned(agentMachineId);
    const held = this.waiters.get(agentMachineId);
    if (held === undefined) this.waiters.set(agentMachineId, waiter);
    else if (held instanceof Set) held.add(waiter);
    else this.waiters.set(agentMachineId, new Set([held, waiter]));
    this.count++;
    this.deadlines.push(waiter);
    this.schedule(now);
    return promise;
  }

  notify(agentMachineId: number): void {
    for (const status of WATCHED_STATUSES) this.noneSince[status].delete(agentMachineId);
    this.lastNotified.set(agentMachineId, ++this.sequence);
    const held = this.waiters.get(agentMachineId);
    if (held === undefined) return;
    this.waiters.delete(agentMachineId);
    if (held instanceof Set) for (const waiter of held) this.settle(waiter, true);
    else this.settle(held, true);
  }

  notifyAll(): void {
    for (const status of WATCHED_STATUSES) this.noneSince[status].clear();
    this.forgotAt = ++this.sequence;
    this.lastNotified.clear();
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }

  knownNone(agentMachineId: number, status: WatchedStatus): boolean {
    const known = this.noneSince[status];
    const since = known.get(agentMachineId);
    if (since === undefined) return false;
    if (this.now() - since < IDLE_TRUST_MS) return true;
    known.delete(agentMachineId);
    return false;
  }

  lookupTicket(_agentMachineId: number): number {
    return this.sequence;
  }

  recordNone(agentMachineId: number, status: WatchedStatus, ticket: number): boolean {
    if (ticket < this.forgotAt || (this.lastNotified.get(agentMachineId) ?? -1) > ticket) {
      return false;
    }
    const known = this.noneSince[status];
    if (known.size >= MAX_KNOWN_ENTRIES) known.clear();
    known.set(agentMachineId, this.now());
    return true;
  }

  noneLongerThan(status: WatchedStatus, ms: number): number[] {
    const before = this.now() - ms;
    const due: number[] = [];
    for (const [agentMachineId, since] of this.noneSince[status]) {
      if (since <= before) due.push(agentMachineId);
    }
    return due;
  }

  get waiting(): number {
    return this.count;
  }

  /** Resolves a waiter once; it stays in the heap until it reaches the top. */
  private settle(waiter: Waiter, woken: boolean): void {
    if (waiter.settled) return;
    waiter.settled = true;
    this.count--;
    waiter.resolve(woken);
    // What the heap entry still references until it is dropped: nothing of the request.
    waiter.signal = undefined;
    waiter.resolve = noop;
  }

  /** Removes a waiter from its agent's entry (a timeout or an abandoned request). */
  private forget(waiter: Waiter): void {
    const held = this.waiters.get(waiter.agentMachineId);
    if (held === waiter) this.waiters.delete(waiter.agentMachineId);
    else if (held instanceof Set) {
      held.delete(waiter);
      if (held.size === 0) this.waiters.delete(waiter.agentMachineId);
    }
  }

  /** Sets the one timer for the earliest deadline (none while nobody waits). */
  private schedule(now: number): void {
    while (this.deadlines.peek()?.settled) this.deadlines.pop();
    if (this.count === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    const at = this.deadlines.peek()?.deadline ?? Number.POSITIVE_INFINITY;
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - now));
  }

  /** Ends the waits whose request went away, of one agent (before it waits again). */
  private freeAbandoned(agentMachineId: number): void {
    const held = this.waiters.get(agentMachineId);
    if (held === undefined) return;
    for (const waiter of held instanceof Set ? held : [held]) {
      if (!waiter.signal?.aborted) continue;
      this.forget(waiter);
      this.settle(waiter, false);
    }
  }

  /** Ends the waits that are due. */
  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    for (let top = this.deadlines.peek(); top && top.deadline <= now; top = this.deadlines.peek()) {
      this.deadlines.pop();
      if (top.settled) continue;
      this.forget(top);
      this.settle(top, false);
    }
    this.schedule(now);
  }
}

const noop = () => {};
