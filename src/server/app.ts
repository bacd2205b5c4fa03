/**
 * createApp(deps): the hub's HTTP surface. Middleware order: the edge (http/edge.ts:
 * request id + access log, request counting for /metrics by matched route pattern,
 * security headers on every response, in one middleware), then for /api/* CSRF checks for
 * cookie-authenticated changes (before any body is read) and the body limit (one
 * middleware), then the route groups, each of which applies its
 * own authentication (user routes: requireUser; agent runtime: the agent credential),
 * then the embedded web UI (after the API, so its SPA fallback never shadows an API
 * route). One onError. The access log, body limit, validation and onError are the ones
 * every role shares (src/shared/http/). The client address (c.env.ip) is resolved where
 * the server hands the request over (start.ts, with http/client-address.ts).
 */
import { Hono } from "hono";
import { limitBody } from "../shared/http/body-limit.ts";
import { errorHandler, notFound } from "../shared/http/errors.ts";
import { AGENT_API_PREFIX } from "../shared/protocol/agent.ts";
import type { HubDeps } from "./deps.ts";
import type { HubEnv } from "./http/context.ts";
import { assertNotCrossSite } from "./http/csrf.ts";
import { hubEdge } from "./http/edge.ts";
import { MemoRouter } from "./http/memo-router.ts";
import { agentJobRoutes } from "./http/routes/agent-jobs.ts";
import { agentRoutes } from "./http/routes/agents.ts";
import { auditRoutes } from "./http/routes/audit.ts";
import { authRoutes } from "./http/routes/auth.ts";
import { boxRoutes } from "./http/routes/boxes.ts";
import { jobRoutes } from "./http/routes/jobs.ts";
import { machineRoutes } from "./http/routes/machines.ts";
import { metricsRoutes } from "./http/routes/metrics.ts";
import { notificationChannelRoutes } from "./http/routes/notification-channels.ts";
import { planRoutes } from "./http/routes/plans.ts";
import { repositoryRoutes } from "./http/routes/repositories.ts";
import { restoreRoutes } from "./http/routes/restore.ts";
import { uiRoutes } from "./http/routes/ui.ts";
import { userRoutes } from "./http/routes/users.ts";
import { loadUiAssets } from "./http/ui-macro.ts" with { type: "macro" };

export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Agent uploads carry whole results: an archive list of up to 100,000 archives (the
 * protocol's cap) is ~25 MB. A result refused for its size would be a lost backup result.
 */
export const MAX_AGENT_BODY_BYTES = 32 * 1024 * 1024;

/** The request body limit of a path: the agent runtime's, or the user API's. */
export const bodyLimitFor = (path: string): number =>
  path.startsWith(`${AGENT_API_PREFIX}/`) ? MAX_AGENT_BODY_BYTES : MAX_BODY_BYTES;

export function createApp(deps: HubDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>({ router: new MemoRouter() });

  app.use("*", hubEdge(deps));
  const userBodyLimit = limitBody(MAX_BODY_BYTES);
  const agentBodyLimit = limitBody(MAX_AGENT_BODY_BYTES);
  // CSRF first (before any body is read), then the body limit; plain functions in one
  // middleware, so a GET (most of all an agent's poll) passes in one step.
  app.use("/api/*", (c, next) => {
    assertNotCrossSite(c, deps);
    if (c.req.raw.body === null) return next(); // nothing to limit (the limit's own shortcut)
    return bodyLimitFor(c.req.path) === MAX_AGENT_BODY_BYTES
      ? agentBodyLimit(c, next)
      : userBodyLimit(c, next);
  });

  app.get("/api/health", (c) => c.json({ status: "ok", version: deps.version }));
  authRoutes(app, deps);
  userRoutes(app, deps);
  auditRoutes(app, deps);
  machineRoutes(app, deps);
  agentRoutes(app, deps);
  agentJobRoutes(app, deps);
  repositoryRoutes(app, deps);
  boxRoutes(app, deps);
  jobRoutes(app, deps);
  planRoutes(app, deps);
  notificationChannelRoutes(app, deps);
  restoreRoutes(app, deps);
  metricsRoutes(app, deps);
  uiRoutes(app, loadUiAssets());

  app.notFound(notFound);
  app.onError(errorHandler(deps.logger));
  return app;
}
