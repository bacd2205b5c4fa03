/**
 * GET /metrics: the hub's Prometheus metrics (text format 0.0.4, services/metrics.ts).
 * Who may read them: a bearer token equal to metrics_token (BORGCTL_METRICS_TOKEN),
 * compared in constant time, which reads metrics and nothing else; or any user
 * credential of the viewer role or higher (a viewer API token for Prometheus). Without a
 * metrics_token the second is the only way: the series name every repository, so they
 * are never served to anonymous callers.
 */
import type { Hono } from "hono";
import { secureEqual } from "../../../shared/secure-compare.ts";
import type { HubDeps } from "../../deps.ts";
import { requireUser } from "../auth.ts";
import type { HubEnv } from "../context.ts";

export function metricsRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const viewer = requireUser(deps, "viewer");
  app.get(
    "/metrics",
    async (c, next) => {
      const expected = deps.settings.metricsToken;
      const header = c.req.header("authorization");
      const given = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
      if (expected !== undefined && given !== undefined && secureEqual(given, expected)) {
        return next();
      }
      return viewer(c, next);
    },
    async (c) =>
      c.body(await deps.metrics.render(deps), 200, { "content-type": deps.metrics.contentType }),
  );
}
