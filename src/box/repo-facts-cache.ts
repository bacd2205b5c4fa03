/**
 * A cache of RepoFacts so that `GET /repos` stays fast with thousands of repos.
 *
 * Reading facts walks every file of a repo (for its size), which is far too slow to do
 * for all repos on each request. Listing therefore costs one readdir of the root plus
 * cache lookups; the walks happen in background refreshes with bounded concurrency.
 *
 * Lifecycle: construct → start() (optional: one warm-up pass now, then a periodic
 * refresh; the timer is unref'd so it never keeps the process alive) → list()/get()/invalidate() any time → stop().
 * - list(): cached facts for every current repo dir. A dir seen for the first time is
 *   read now; an entry older than the interval is served as is and refreshed behind.
 *   Entries whose directory disappeared are dropped.
 * - get(name): always a fresh read (it backs `GET /repos/{name}`), stored in the cache.
 * - invalidate(name): forget one entry (after create/delete/maintenance); a read that
 *   was already in flight for it will not put the old facts back.
 * A repo that can't be read (an I/O error, not "gone") keeps its last good facts and is
 * logged at warn with its name; a refresh pass that fails as a whole is logged too.
 */
import { isAppError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { listRepoDirs, type RepoFacts, readRepoFacts } from "./repos.ts";

export interface RepoFactsCacheOptions {
  root: string;
  /** How old an entry may get before list() refreshes it in the background. */
  refreshIntervalMs?: number;
  /** At most this many repo reads (walks) run at once. */
  concurrency?: number;
  /** Clock in ms, injectable for tests. */
  now?: () => number;
  /** Where unreadable repos and failed refreshes are reported (warn). */
  logger?: Logger;
}

interface Entry {
  facts: RepoFacts;
  readAt: number;
}

const DEFAULT_REFRESH_INTERVAL_MS = 30_000;
const DEFAULT_CONCURRENCY = 8;

/** A counting semaphore: run() waits for a free slot. */
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter; `active` stays the same.
      if (next) next();
      else this.active--;
    }
  }
}

export class RepoFactsCache {
  private readonly root: string;
  private readonly refreshIntervalMs: number;
  private readonly now: () => number;
  private readonly limiter: Limiter;
  private readonly logger: Logger | undefined;
  private readonly entries = new Map<string, Entry>();
  /** One in-flight read per name, shared by everyone who asks meanwhile. */
  private readonly inflight = new Map<string, Promise<RepoFacts | null>>();
  /** Bumped by invalidate(); a read started under an older generation is not stored. */
  private readonly generations = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(opts: RepoFactsCacheOptions) {
    this.root = opts.root;
    this.refreshIntervalMs = opts.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    this.now = opts.now ?? Date.now;
    this.limiter = new Limiter(Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY));
    this.logger = opts.logger;
  }

  async list(): Promise<RepoFacts[]> {
    const names = await listRepoDirs(this.root);
    this.dropAllExcept(new Set(names));
    const now = this.now();
    const results = await Promise.all(
      names.map(async (name) => {
        const entry = this.entries.get(name);
        if (!entry) return this.read(name);
        if (now - entry.readAt >= this.refreshIntervalMs) void this.read(name);
        return entry.facts;
      }),
    );
    return results.filter((f): f is RepoFacts => f !== null);
  }

  /** Fresh facts for one repo; throws like readRepoFacts (not_found, symlink refused). */
  async get(name: string): Promise<RepoFacts> {
    const generation = this.bump(name);
    try {
      const facts = await readRepoFacts(this.root, name);
      this.store(name, generation, facts);
      return facts;
    } catch (e) {
      if (this.generations.get(name) === generation) this.entries.delete(name);
      throw e;
    }
  }

  invalidate(name: string): void {
    this.bump(name);
    this.entries.delete(name);
    // The next reader must start a new read, not join one that began before the change.
    this.inflight.delete(name);
  }

  /** Re-reads every current repo dir (bounded concurrency) and drops vanished ones. */
  refreshNow(): Promise<void> {
    // Overlapping timer ticks share one pass instead of piling up walks.
    this.refreshing ??= (async () => {
      try {
        const names = await listRepoDirs(this.root);
        this.dropAllExcept(new Set(names));
        await Promise.all(names.map((name) => this.read(name)));
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Warms the cache now, then refreshes every interval. */
  start(): void {
    if (this.timer) return;
    const refresh = () =>
      // Errors of one pass (e.g. root briefly unreadable) must not kill the timer; they
      // are said, and the cache keeps serving what it has.
      this.refreshNow().catch((e: unknown) => {
        this.logger?.warn("repo facts refresh failed; serving the facts read before", {
          root: this.root,
          error: errorText(e),
        });
      });
    void refresh();
    this.timer = setInterval(refresh, this.refreshIntervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private bump(name: string): number {
    const next = (this.generations.get(name) ?? 0) + 1;
    this.generations.set(name, next);
    return next;
  }

  private store(name: string, generation: number, facts: RepoFacts): void {
    if (this.generations.get(name) !== generation) return;
    this.entries.set(name, { facts, readAt: this.now() });
  }

  private dropAllExcept(keep: Set<string>): void {
    for (const name of this.entries.keys()) {
      if (!keep.has(name)) this.entries.delete(name);
    }
    for (const name of this.generations.keys()) {
      if (!keep.has(name) && !this.inflight.has(name)) this.generations.delete(name);
    }
  }

  /**
   * Reads one repo through the limiter, deduplicated. Resolves null (and drops the entry)
   * when the repo is gone or refused. Any other error is logged at warn with the repo's
   * name and resolves to the last good facts (null when there are none), so that one
   * broken repo never fails a whole listing nor silently vanishes from it.
   */
  private read(name: string): Promise<RepoFacts | null> {
    const pending = this.inflight.get(name);
    if (pending) return pending;
    const generation = this.generations.get(name) ?? 0;
    this.generations.set(name, generation);
    const promise = this.limiter
      .run(() => readRepoFacts(this.root, name))
      .then(
        (facts) => {
          this.store(name, generation, facts);
          return facts;
        },
        (e: unknown) => {
          if (isAppError(e)) {
            if (this.generations.get(name) === generation) this.entries.delete(name);
          } else {
            const kept = this.entries.get(name);
            this.logger?.warn(
              kept
                ? "cannot read repo facts; keeping the last good ones"
                : "cannot read repo facts; leaving the repo out of the listing",
              {
                repo: name,
                error: errorText(e),
                ...(kept ? { facts_read_at: new Date(kept.readAt).toISOString() } : {}),
              },
            );
          }
          return this.entries.get(name)?.facts ?? null;
        },
      )
      .finally(() => {
        if (this.inflight.get(name) === promise) this.inflight.delete(name);
      });
    this.inflight.set(name, promise);
    return promise;
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
