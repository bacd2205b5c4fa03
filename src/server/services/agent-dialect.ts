/**
 * How an agent talks: the protocol as written ("spec", borgctl's own agent and any other
 * that follows the spec), or Borg UI's agent's variant of it ("borg-ui", translated at the
 * HTTP edge by http/borg-ui-agent.ts). Told from the capabilities it registered: Borg UI's
 * agent reports its kinds under "repository.*" names. Pure.
 */
export type AgentDialect = "spec" | "borg-ui";

export function agentDialect(capabilities: readonly string[]): AgentDialect {
  return capabilities.some((c) => c.startsWith("repository.")) ? "borg-ui" : "spec";
}
