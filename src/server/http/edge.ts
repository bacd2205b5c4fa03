/**
 * The hub's outermost middleware, one for every request: the request id and the access
 * log (shared/http/access-log.ts; an agent's successful polls and heartbeats are summarized,
 * see there), the request count for /metrics (request-metrics.ts) and the security
 * headers (security-headers.ts). One middleware and not three because each one costs
 * every request two async frames (its own and Hono's dispatch step), which on an agent's
 * empty poll was as much as all the work the three do.
 *
 * Order as it was with three: the count sees the final status, errors included (finally);
 * the headers go on whatever answered, onError's answers included.
 */
import type { MiddlewareHandler } from "hono";
import { RequestLog } from "../../shared/http/access-log.ts";
import { AGENT_API_PREFIX } from "../../shared/protocol/agent.ts";
import type { HubDeps } from "../deps.ts";
import type { HubEnv } from "./context.ts";
import { countRequest } from "./request-metrics.ts";
import { applySecurityHeaders } from "./security-headers.ts";

const POLL_PATH = `${AGENT_API_PREFIX}/jobs/poll`;
const HEARTBEAT_PATH = `${AGENT_API_PREFIX}/heartbeat`;

/** An agent's routine calls: every agent sends them every few seconds, and they succeed. */
export const routineAgentRequest = (method: string, path: string): boolean =>
  (method === "GET" && path === POLL_PATH) || (method === "POST" && path === HEARTBEAT_PATH);

/** `windowMs`: the access log's summary window (tests shorten it). */
export function hubEdge(
  deps: HubDeps,
  options: { windowMs?: number } = {},
): MiddlewareHandler<HubEnv> {
  const requests = new RequestLog(deps.logger.child("http"), {
    summarize: routineAgentRequest,
    windowMs: options.windowMs,
  });
  return async (c, next) => {
    const started = requests.begin(c);
    try {
      await next();
      applySecurityHeaders(c);
      requests.end(c, started);
    } finally {
      countRequest(deps, c);
    }
  };
}
