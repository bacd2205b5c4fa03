/**
 * Records what happened, for admins (audit_events) and for operators (one log line).
 * Callers pass identifiers and outcomes only: never a token, passphrase or payload.
 */

import type { AuditInput } from "../db/queries/audit.ts";
import type { HubDeps } from "../deps.ts";

export async function audit(
  deps: Pick<HubDeps, "store" | "logger" | "clock">,
  event: AuditInput,
): Promise<void> {
  await deps.store.audit.append(event, deps.clock());
  deps.logger.child("audit").info(event.action, {
    actor: event.actor,
    target: event.target ?? undefined,
    ip: event.ip ?? undefined,
    ...(event.details ?? {}),
  });
}

export const userActor = (p: { userId: number; username: string }) =>
  `user:${p.userId}:${p.username}`;
export const agentActor = (a: { machineId: number; agentId: string }) =>
  `agent:${a.machineId}:${a.agentId}`;
