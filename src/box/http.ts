/**
 * The box's HTTP API (borgbox-compatible, base /api/v1). Routes are thin: they validate,
 * call the box's modules, and shape the JSON. One onError renders every failure.
 */
import { Hono } from "hono";
import type { BoxConfig } from "../shared/config/box.ts";
import { AppError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { secureEqual } from "../shared/secure-compare.ts";

export interface BoxDeps {
  config: BoxConfig;
  logger: Logger;
  startedAt: number;
}

export function createBoxApp(deps: BoxDeps): Hono {
  const app = new Hono().basePath("/api/v1");
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.use("*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!secureEqual(token, deps.config.token)) {
      throw new AppError("unauthorized", "missing or wrong bearer token");
    }
    await next();
  });
  app.notFound(() => {
    throw new AppError("not_found", "no such endpoint");
  });
  app.onError((error, c) => {
    if (error instanceof AppError) return c.json(error.toBody(), error.status as 400);
    deps.logger.error("request failed", { error: error.message });
    return c.json({ error: "internal error", code: "internal" }, 500);
  });
  return app;
}
