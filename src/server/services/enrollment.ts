/**
 * Enrollment tokens, the admin side: create (the value is returned once, only its hash
 * is kept), list (never values), revoke. Redeeming a token is part of agent registration
 * (services/agents.ts); this file also explains, for the audit only, why a presented
 * token was refused — the agent itself always gets one generic answer.
 */
import { AppError } from "../../shared/errors.ts";
import type { EnrollmentTokenRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import type { UserActor } from "./actor.ts";
import { audit } from "./audit.ts";
import { hashToken, newToken, tokenKind } from "./tokens.ts";

export async function createEnrollmentToken(
  deps: HubDeps,
  actor: UserActor,
  request: { name: string; expires_in_minutes: number },
): Promise<{ row: EnrollmentTokenRow; token: string }> {
  const { token, hash, prefix } = newToken("enroll");
  const now = deps.clock();
  const row = await deps.store.enrollment.insert({
    name: request.name,
    tokenHash: hash,
    tokenPrefix: prefix,
    createdByUserId: actor.userId,
    expiresAt: now + request.expires_in_minutes * 60_000,
    createdAt: now,
  });
  await audit(deps, {
    actor,
    action: "enrollment.create",
    target: `enrollment_token:${row.id}`,
    ip: actor.ip,
    details: { name: row.name, expires_in_minutes: request.expires_in_minutes },
  });
  return { row, token };
}

export function listEnrollmentTokens(deps: HubDeps): Promise<EnrollmentTokenRow[]> {
  return deps.store.enrollment.list();
}

/** Revokes a token; revoking one already revoked is a no-op (nothing audited twice). */
export async function revokeEnrollmentToken(
  deps: HubDeps,
  actor: UserActor,
  id: number,
): Promise<void> {
  if (await deps.store.enrollment.revoke(id, deps.clock())) {
    await audit(deps, {
      actor,
      action: "enrollment.revoke",
      target: `enrollment_token:${id}`,
      ip: actor.ip,
    });
    return;
  }
  if (!(await deps.store.enrollment.byId(id))) {
    throw new AppError("not_found", `no enrollment token ${id}`);
  }
}

export type EnrollmentRefusal = "unknown" | "revoked" | "used" | "expired";

/** Why a presented enrollment token can't be redeemed now (for the audit trail only). */
export async function enrollmentRefusalReason(
  deps: HubDeps,
  token: string,
): Promise<EnrollmentRefusal> {
  const row =
    tokenKind(token) === "enroll"
      ? await deps.store.enrollment.byHash(hashToken(token))
      : undefined;
  if (!row) return "unknown";
  if (row.revokedAt !== null) return "revoked";
  if (row.usedAt !== null) return "used";
  if (row.expiresAt <= deps.clock()) return "expired";
  // Live now: another registration consumed it between our attempt and this look-up.
  return "used";
}
