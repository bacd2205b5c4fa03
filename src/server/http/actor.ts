/**
 * The one place the HTTP layer says who is acting: the credential requireUser or
 * requireAgent put on the context, plus the client address, as the services' Actor.
 * Only call these on routes behind that middleware (the context value is set there).
 */
import type { Context } from "hono";
import type { AgentActor, UserActor } from "../services/actor.ts";
import type { HubEnv } from "./context.ts";

export function actorOf(c: Context<HubEnv>): UserActor {
  const { userId, username, role, via, credentialId } = c.get("principal");
  return { kind: "user", userId, username, role, via, credentialId, ip: c.env?.ip };
}

export function agentActorOf(c: Context<HubEnv>): AgentActor {
  const { machineId, agentId } = c.get("agent");
  return { kind: "agent", machineId, agentId, ip: c.env?.ip };
}
