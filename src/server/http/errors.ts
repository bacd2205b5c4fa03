/**
 * The hub's one onError and notFound: AppError → its status and body; Hono's own 4xx
 * (malformed JSON, body too large) → the same shape; anything else → `internal` with a
 * request id, the real cause logged (redacted) but never sent.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import type { HubEnv } from "./context.ts";

export function errorHandler(logger: Logger) {
  return (error: Error, c: Context<HubEnv>) => {
    if (error instanceof AppError) return c.json(error.toBody(), error.status as 400);
    if (error instanceof HTTPException && error.status < 500) {
      const code = error.status === 413 ? "payload_too_large" : "validation_failed";
      return c.json({ error: error.message, code }, error.status);
    }
    const requestId = c.get("requestId") ?? crypto.randomUUID();
    logger.error("request failed", {
      request_id: requestId,
      path: c.req.path,
      error: error.message,
    });
    return c.json({ error: "internal error", code: "internal", request_id: requestId }, 500);
  };
}

export const notFound = () => {
  throw new AppError("not_found", "no such endpoint");
};
