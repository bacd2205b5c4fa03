/**
 * Who is acting, as the services see it. Services decide on it (role checks, "your own
 * tokens", which agent's jobs) and record it (audit actor, jobs.triggered_by), so it is
 * theirs: the HTTP layer maps whoever signed in to one of these (http/actor.ts), the
 * periodic sweeps act as `system`, and the scheduler (next) will queue jobs as `scheduler`.
 * No transport detail beyond the client address, which the audit trail keeps.
 */
import type { Role } from "../../shared/protocol/api.ts";

/** A signed-in user's credential, as authenticate() finds it. */
export interface UserCredential {
  userId: number;
  username: string;
  /** Effective role: an API token's role, which is at most its user's. */
  role: Role;
  via: "session" | "api_token";
  /** The session or API token row id: logout ends that session; a job names that token. */
  credentialId: number;
}

export interface UserActor extends UserCredential {
  kind: "user";
  /** The client address, for the audit trail. */
  ip?: string;
}

export interface AgentActor {
  kind: "agent";
  machineId: number;
  agentId: string;
  /** The agent's address, for the audit trail. */
  ip?: string;
}

/** The hub's own upkeep: expired leases, offline agents, the first admin. */
export interface SystemActor {
  kind: "system";
}

/** Jobs started by a plan's schedule rather than by a person. */
export interface SchedulerActor {
  kind: "scheduler";
}

export type Actor = UserActor | AgentActor | SystemActor | SchedulerActor;

export const SYSTEM: SystemActor = { kind: "system" };
export const SCHEDULER: SchedulerActor = { kind: "scheduler" };

/** The actor as the audit trail and jobs.triggered_by have always spelled it. */
export function actorName(actor: Actor): string {
  switch (actor.kind) {
    case "user":
      return `user:${actor.userId}:${actor.username}`;
    case "agent":
      return `agent:${actor.machineId}:${actor.agentId}`;
    case "system":
      return "system";
    case "scheduler":
      return "scheduler";
  }
}
