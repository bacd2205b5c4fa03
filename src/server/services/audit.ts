/**
 * Records what happened, for admins (audit_events) and for operators (one log line), and
 * reads the trail back. Callers pass the Actor and identifiers and outcomes only: never a
 * token, passphrase or payload. The client address is passed explicitly, by the events
 * that have always recorded it, so an entry says the same as before actors were typed.
 */
import type { HubDeps } from "../deps.ts";
import { type Actor, actorName } from "./actor.ts";

export interface AuditEvent {
  /** "anonymous": a caller without a valid credential (failed logins, refused enrollments). */
  actor: Actor | "anonymous";
  action: string;
  target?: string | null;
  ip?: string | null;
  details?: Record<string, unknown> | null;
}

export async function audit(
  deps: Pick<HubDeps, "store" | "logger" | "clock">,
  event: AuditEvent,
): Promise<void> {
  const actor = event.actor === "anonymous" ? "anonymous" : actorName(event.actor);
  await deps.store.audit.append({ ...event, actor }, deps.clock());
  deps.logger.child("audit").info(event.action, {
    actor,
    target: event.target ?? undefined,
    ip: event.ip ?? undefined,
    ...(event.details ?? {}),
  });
}

/** The trail, newest first (admins only; the route checks the role). */
export const listAudit = (
  deps: Pick<HubDeps, "store">,
  query: { limit: number; before?: number; action?: string },
) => deps.store.audit.list(query);
