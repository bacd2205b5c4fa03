/**
 * The access log and the request id, for every role's app: each request gets a random
 * id on its context (an `internal` answer carries it, so a report can be matched to the
 * log line) and, once answered, one "request" line: method, path, status, milliseconds.
 */
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../log.ts";

/** What the shared middleware puts on a request's context; every app's Env includes it. */
export type RequestIdEnv = { Variables: { requestId: string } };

export function accessLog(log: Logger): MiddlewareHandler<RequestIdEnv> {
  return async (c, next) => {
    const started = performance.now();
    c.set("requestId", crypto.randomUUID());
    await next();
    log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  };
}
