/**
 * The agent runtime's own routes (base /api/agents): register (enrollment token in the
 * body, no agent credential), heartbeat and unregister (agent credential). The job
 * routes live in agent-jobs.ts. Protocol versions are checked here, before any work.
 */
import type { Hono, MiddlewareHandler } from "hono";
import {
  AGENT_PROTOCOL_HEADER,
  HeartbeatRequest,
  RegisterRequest,
} from "../../../shared/protocol/agent.ts";
import type { HubDeps } from "../../deps.ts";
import { recordHeartbeat, registerAgent, unregisterAgent } from "../../services/agents.ts";
import { toIso } from "../../services/time.ts";
import { agentActorOf } from "../actor.ts";
import { assertProtocolSupported, requireAgent } from "../agent-auth.ts";
import type { HubEnv } from "../context.ts";
import { validate } from "../validate.ts";

export function agentRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const intervals = () => ({
    poll_interval_seconds: deps.settings.pollIntervalSeconds,
    heartbeat_interval_seconds: deps.settings.heartbeatIntervalSeconds,
  });

  // A newer agent may send a body this hub can't validate: its protocol header (when sent)
  // gets it the protocol_unsupported answer instead of a 400.
  const protocolHeader: MiddlewareHandler<HubEnv> = async (c, next) => {
    const header = c.req.header(AGENT_PROTOCOL_HEADER);
    if (header !== undefined) assertProtocolSupported(Number(header));
    await next();
  };

  app.post("/api/agents/register", protocolHeader, validate("json", RegisterRequest), async (c) => {
    const request = c.req.valid("json");
    assertProtocolSupported(request.protocol_version);
    const { machine, agentToken } = await registerAgent(deps, request, c.env?.ip ?? "unknown");
    return c.json({
      agent_id: machine.agentId,
      agent_token: agentToken,
      server_time: toIso(deps.clock()),
      ...intervals(),
    });
  });

  const agent = requireAgent(deps);
  app.post("/api/agents/heartbeat", agent, validate("json", HeartbeatRequest), async (c) => {
    const request = c.req.valid("json");
    assertProtocolSupported(request.protocol_version);
    const { serverTime, cancelJobIds } = await recordHeartbeat(deps, agentActorOf(c), request);
    return c.json({ server_time: toIso(serverTime), ...intervals(), cancel_job_ids: cancelJobIds });
  });

  app.post("/api/agents/unregister", agent, async (c) => {
    await unregisterAgent(deps, agentActorOf(c));
    return c.body(null, 204);
  });
}
