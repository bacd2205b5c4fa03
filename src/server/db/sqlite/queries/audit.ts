/** The audit trail on SQLite: append and read, newest first. */
import { and, desc, eq, lt } from "drizzle-orm";
import { parseRows } from "../../parse.ts";
import { AuditRecord } from "../../records.ts";
import type { AuditStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { auditEvents } from "../schema.ts";

export function auditQueries(db: Db): AuditStore {
  return {
    async append(event, now) {
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
    async appendMany(events, now) {
      if (events.length === 0) return;
      db.insert(auditEvents)
        .values(
          events.map((event) => ({
            at: now,
            actor: event.actor,
            action: event.action,
            target: event.target ?? null,
            ip: event.ip ?? null,
            details: event.details ?? null,
          })),
        )
        .run();
    },
    async list(query) {
      return parseRows(
        AuditRecord,
        "audit_events",
        db
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
          .all(),
      );
    },
  };
}
