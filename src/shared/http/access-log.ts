/**
 * The access log and the request id, for every role's app: each request gets a random
 * id on its context (an `internal` answer carries it, so a report can be matched to the
 * log line) and, once answered, one "request" line: method, path, status, milliseconds.
 *
 * Requests an app calls routine (`summarize`: the hub's agent polls and heartbeats, which
 * a fleet sends thousands of times a second and whose every line would say the same) are
 * logged one line per route and status per SUMMARY_WINDOW_MS instead, when their answer is
 * not an error: "requests" with count, mean and max milliseconds. Every answer ≥ 400 is
 * logged on its own line, whatever the route. The summary is written by a timer that runs
 * only while there is something to write (unref'd: it never keeps a process alive); counts
 * of the last window are lost when the process ends before it fires.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../log.ts";

/** What the shared middleware puts on a request's context; every app's Env includes it. */
export type RequestIdEnv = { Variables: { requestId: string } };

export const SUMMARY_WINDOW_MS = 10_000;

export interface AccessLogOptions {
  /** Whether a request's successful answers go into the summary (called with the method and path). */
  summarize?: (method: string, path: string) => boolean;
  /** The window of a summary line, ms (tests shorten it). */
  windowMs?: number;
}

interface Tally {
  method: string;
  path: string;
  status: number;
  count: number;
  totalMs: number;
  maxMs: number;
}

/**
 * The access log's two halves, for an app that folds them into a middleware of its own
 * (the hub's edge.ts): `begin` before the route, `end` once it answered.
 */
export class RequestLog {
  private readonly tallies = new Map<string, Tally>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly log: Logger,
    private readonly options: AccessLogOptions = {},
  ) {}

  /**
   * Gives the request its id (a summarized one gets none here: it has no line of its own
   * to match, and an `internal` answer makes one for itself and its "request failed"
   * line); returns its start time for `end`.
   */
  begin<E extends RequestIdEnv>(c: Context<E>): number {
    if (!this.options.summarize?.(c.req.method, c.req.path)) {
      c.set("requestId", crypto.randomUUID());
    }
    return performance.now();
  }

  end<E extends RequestIdEnv>(c: Context<E>, started: number): void {
    const method = c.req.method;
    const path = c.req.path;
    const status = c.res.status;
    const ms = performance.now() - started;
    if (status < 400 && this.options.summarize?.(method, path)) {
      this.tally(method, path, status, ms);
      return;
    }
    this.log.info("request", { method, path, status, ms: Math.round(ms) });
  }

  /** Writes the summary lines of the window so far (the timer calls it; tests and shutdown may). */
  flush(): void {
    for (const t of this.tallies.values()) {
      this.log.info("requests", {
        method: t.method,
        path: t.path,
        status: t.status,
        count: t.count,
        ms_mean: Number((t.totalMs / t.count).toFixed(1)),
        ms_max: Math.round(t.maxMs),
      });
    }
    this.tallies.clear();
  }

  private tally(method: string, path: string, status: number, ms: number): void {
    const key = `${status} ${method} ${path}`;
    const tally = this.tallies.get(key);
    if (tally) {
      tally.count++;
      tally.totalMs += ms;
      if (ms > tally.maxMs) tally.maxMs = ms;
    } else {
      this.tallies.set(key, { method, path, status, count: 1, totalMs: ms, maxMs: ms });
    }
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        if (this.tallies.size > 0) return this.flush();
        clearInterval(this.timer);
        this.timer = undefined;
      }, this.options.windowMs ?? SUMMARY_WINDOW_MS);
      this.timer.unref?.();
    }
  }
}

export function accessLog(
  log: Logger,
  options: AccessLogOptions = {},
): MiddlewareHandler<RequestIdEnv> {
  const requests = new RequestLog(log, options);
  return async (c, next) => {
    const started = requests.begin(c);
    await next();
    requests.end(c, started);
  };
}
