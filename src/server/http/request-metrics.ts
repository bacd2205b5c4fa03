/**
 * Counts every answered request for GET /metrics (services/metrics.ts) by method, the
 * route pattern that answered it ("/api/jobs/:id", never "/api/jobs/42", so the series
 * stay few) and status. A request that only middleware or the not-found handler answered
 * is "unmatched". Called by the edge (edge.ts) once the answer is final, errors included.
 */
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import type { HubDeps } from "../deps.ts";
import type { HubEnv } from "./context.ts";

/** Counts one answered request (by its final status). */
export function countRequest(deps: HubDeps, c: Context<HubEnv>): void {
  const route = matchedRoutes(c)[c.req.routeIndex];
  // Middleware is registered for every method ("ALL"); a route names its own.
  const pattern = route && route.method !== "ALL" ? route.path : "unmatched";
  deps.metrics.countRequest(c.req.method, pattern, c.res.status);
}
