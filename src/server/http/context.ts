/**
 * What middleware puts on a request's context, typed once for every route file.
 * - ip: the client address, for audit and rate limits: the TCP peer, or the address a
 *   trusted proxy forwarded (resolved by start.ts with client-address.ts)
 * - forwardedProto: the scheme a trusted proxy says the client used (Secure cookie, CSRF)
 * - keepOpen: lifts the server's idle timeout for this request (a download may wait
 *   minutes for borg to find its file before the first byte); absent under app.request()
 * - requestId: for correlating an `internal` error answer with the log line
 * - principal: the signed-in user (session or API token), set by requireUser
 * - agent: the authenticated agent machine, set by requireAgent (runtime routes only)
 * Routes hand services an Actor made from these by http/actor.ts, never these types.
 */
import type { UserCredential } from "../services/actor.ts";
import type { AgentDialect } from "./borg-ui-agent.ts";

/** The signed-in user: the credential services/auth.ts authenticate() found. */
export type Principal = UserCredential;

export interface AgentPrincipal {
  machineId: number;
  agentId: string;
  name: string;
  /** How it talks, from what it reports (borg-ui-agent.ts): the edge translates "borg-ui". */
  dialect: AgentDialect;
}

export type HubEnv = {
  Bindings: { ip?: string; forwardedProto?: "http" | "https"; keepOpen?: () => void };
  Variables: {
    requestId: string;
    principal: Principal;
    agent: AgentPrincipal;
  };
};
