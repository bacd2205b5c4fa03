/**
 * Authentication of the agent runtime routes: `X-Borg-Agent-Authorization: Bearer
 * borgctl_agent_…`, looked up by hash, from the in-memory cache of verified credentials
 * when it is there (services/agents.ts authenticateAgent, which says
 * who may act: only a pending or online/offline machine; a disabled or revoked credential
 * is refused at once, on every route). Repeated failures from one address are slowed down
 * here. The optional X-Borg-Agent-Protocol header is checked against the supported range;
 * register and heartbeat also carry protocol_version.
 *
 * A credential found in the cache (knownAgent: the token's SHA-256, then a map lookup)
 * passes without a promise of its own: every poll and heartbeat of a running fleet does.
 */
import type { Context, MiddlewareHandler, Next } from "hono";
import { AppError } from "../../shared/errors.ts";
import { AGENT_PROTOCOL_HEADER } from "../../shared/protocol/agent.ts";
import { MIN_SUPPORTED_PROTOCOL, PROTOCOL_VERSION } from "../../shared/protocol/version.ts";
import type { HubDeps } from "../deps.ts";
import { authenticateAgent, knownAgent } from "../services/agents.ts";
import type { HubEnv } from "./context.ts";

export function assertProtocolSupported(version: number): void {
  if (
    !Number.isInteger(version) ||
    version < MIN_SUPPORTED_PROTOCOL ||
    version > PROTOCOL_VERSION
  ) {
    throw new AppError(
      "protocol_unsupported",
      `agent protocol ${version} is not supported by this hub (supported: ${MIN_SUPPORTED_PROTOCOL}-${PROTOCOL_VERSION}); upgrade the agent or the hub`,
      { min: MIN_SUPPORTED_PROTOCOL, max: PROTOCOL_VERSION },
    );
  }
}

export function requireAgent(deps: HubDeps): MiddlewareHandler<HubEnv> {
  const log = deps.logger.child("agents");

  /** The credential was not in the cache: the store decides, and failures are throttled. */
  const authenticate = async (c: Context<HubEnv>, next: Next, token: string) => {
    const found = await authenticateAgent(deps, token);
    if (!found.ok) {
      const ip = c.env?.ip ?? "unknown";
      const delay = deps.agentAuthThrottle.recordFailure(ip);
      log.warn("agent authentication failed", {
        ip,
        reason: found.reason,
        machine: found.machineId,
      });
      if (delay > 0) await deps.sleep(delay);
      throw new AppError("unauthorized", "agent credential missing, unknown, disabled or revoked");
    }
    c.set("agent", found.machine);
    await next();
  };

  return (c, next) => {
    const protocol = c.req.header(AGENT_PROTOCOL_HEADER);
    if (protocol !== undefined) assertProtocolSupported(Number(protocol));
    const header = c.req.header("x-borg-agent-authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const known = knownAgent(deps, token);
    if (known === undefined) return authenticate(c, next, token);
    c.set("agent", known);
    return next();
  };
}
