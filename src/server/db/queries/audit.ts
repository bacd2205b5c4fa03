/** The audit trail: append and read, newest first. */
import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "../client.ts";
import { auditEvents } from "../schema.ts";

export interface AuditInput {
  actor: string;
  action: string;
  target?: string | null;
  ip?: string | null;
  details?: Record<string, unknown> | null;
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
}

export function auditQueries(db: Db) {
  return {
    async append(event: AuditInput, now: number): Promise<void> {
      db.insert(auditEvents)
        .values({
          at: now,
          actor: event.actor,
          action: event.action,
          target: event.target ?? null,
          ip: event.ip ?? null,
          details: event.details ?? null,
        })
        .run();
    },
    async list(query: { limit: number; before?: number; action?: string }): Promise<AuditRow[]> {
      return db
        .select()
        .from(auditEvents)
        .where(
          and(
            query.before === undefined ? undefined : lt(auditEvents.id, query.before),
            query.action === undefined ? undefined : eq(auditEvents.action, query.action),
          ),
        )
        .orderBy(desc(auditEvents.id))
        .limit(query.limit)
        .all() as AuditRow[];
    },
  };
}
