/** /api/audit (admin): the audit trail, newest first. */
import type { Hono } from "hono";
import { AuditQuery } from "../../../shared/protocol/api.ts";
import type { HubDeps } from "../../deps.ts";
import { listAudit } from "../../services/audit.ts";
import { toIso } from "../../services/time.ts";
import { requireUser } from "../auth.ts";
import type { HubEnv } from "../context.ts";
import { validate } from "../validate.ts";

export function auditRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  app.get("/api/audit", requireUser(deps, "admin"), validate("query", AuditQuery), async (c) => {
    const rows = await listAudit(deps, c.req.valid("query"));
    return c.json(rows.map((r) => ({ ...r, at: toIso(r.at) })));
  });
}
