/**
 * Slows down repeated authentication failures from one address: the first few fail
 * fast, later ones wait longer and longer before the 401, so guessing a token costs
 * time while a person who mistyped once notices nothing. State is in memory, per key,
 * forgotten after a quiet window, and bounded in size.
 */
export interface FailureThrottleOptions {
  /** Failures answered without delay. */
  freeFailures?: number;
  /** A key with no failure for this long starts again from zero. */
  windowMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Most keys remembered; the oldest are forgotten first. */
  maxKeys?: number;
  now?: () => number;
}

interface Record {
  failures: number;
  last: number;
}

export class FailureThrottle {
  private readonly records = new Map<string, Record>();
  private readonly freeFailures: number;
  private readonly windowMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: FailureThrottleOptions = {}) {
    this.freeFailures = options.freeFailures ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Records a failure and returns how long to wait before answering it. */
  recordFailure(key: string): number {
    const now = this.now();
    const previous = this.records.get(key);
    const failures = previous && now - previous.last < this.windowMs ? previous.failures + 1 : 1;
    // Re-insert so Map order is least-recently-failed first.
    this.records.delete(key);
    this.records.set(key, { failures, last: now });
    if (this.records.size > this.maxKeys) {
      const oldest = this.records.keys().next().value as string;
      this.records.delete(oldest);
    }
    const over = failures - this.freeFailures;
    return over <= 0 ? 0 : Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (over - 1));
  }

  /** Failures of `key` in the current window (0 when forgotten or expired). */
  failures(key: string): number {
    const record = this.records.get(key);
    return record && this.now() - record.last < this.windowMs ? record.failures : 0;
  }

  recordSuccess(key: string): void {
    this.records.delete(key);
  }

  get trackedKeys(): number {
    return this.records.size;
  }
}
