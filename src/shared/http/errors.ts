/**
 * The one onError and notFound of every role's app. AppError → its status and ErrorBody;
 * Hono's own 4xx (malformed JSON, body too large) → the same shape; anything else →
 * `internal` with the request id, the real cause logged (the logger redacts) but never
 * sent, since an unexpected message may name a path or a secret.
 */
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { RequestIdEnv } from "./access-log.ts";

/** Generic over the app's Env, which must carry the request id (see access-log.ts). */
export function errorHandler<E extends RequestIdEnv>(logger: Logger): ErrorHandler<E> {
  return (error, c) => {
    if (error instanceof AppError) return c.json(error.toBody(), error.status as 400);
    if (error instanceof HTTPException && error.status < 500) {
      const code = error.status === 413 ? "payload_too_large" : "validation_failed";
      return c.json({ error: error.message, code }, error.status);
    }
    // A request the access log never saw (outside its path) still gets an id to quote.
    const requestId: string = c.var.requestId ?? crypto.randomUUID();
    logger.error("request failed", {
      request_id: requestId,
      path: c.req.path,
      error: error.message,
    });
    return c.json({ error: "internal error", code: "internal", request_id: requestId }, 500);
  };
}

/** Thrown, not answered, so the 404 takes the one error path like every other failure. */
export const notFound = (): never => {
  throw new AppError("not_found", "no such endpoint");
};
