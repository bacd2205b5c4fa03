/** Backup plans on SQLite (PlanStore): records, and the scheduler's guarded claim of a due time. */
import { and, eq, isNull, lt, lte, or } from "drizzle-orm";
import { parseMaybe, parseRow, parseRows } from "../../parse.ts";
import { PlanRecord, type PlanRow } from "../../records.ts";
import type { PlanMaintenanceStep, PlanStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { plans } from "../schema.ts";

const TABLE = "plans";
const MAINTENANCE_COLUMNS = {
  compact: { column: plans.lastCompactAt, key: "lastCompactAt" },
  check: { column: plans.lastCheckAt, key: "lastCheckAt" },
} as const satisfies Record<PlanMaintenanceStep, unknown>;
const maybeRow = (raw: unknown): PlanRow | undefined => parseMaybe(PlanRecord, TABLE, raw);

export function planQueries(db: Db): PlanStore {
  return {
    async insert(plan, now) {
      return parseRow(
        PlanRecord,
        TABLE,
        db
          .insert(plans)
          .values({ ...plan, createdAt: now, updatedAt: now })
          .returning()
          .get(),
      );
    },
    async list(filter = {}) {
      return parseRows(
        PlanRecord,
        TABLE,
        db
          .select()
          .from(plans)
          .where(
            filter.repositoryId === undefined
              ? undefined
              : eq(plans.repositoryId, filter.repositoryId),
          )
          .orderBy(plans.id)
          .all(),
      );
    },
    async byId(id) {
      return maybeRow(db.select().from(plans).where(eq(plans.id, id)).get());
    },
    async update(id, patch, now) {
      return maybeRow(
        db
          .update(plans)
          .set({ ...patch, updatedAt: now })
          .where(eq(plans.id, id))
          .returning()
          .get(),
      );
    },
    async remove(id) {
      return db.delete(plans).where(eq(plans.id, id)).returning({ id: plans.id }).all().length > 0;
    },
    async claimDueRun(id, due, now) {
      return maybeRow(
        db
          .update(plans)
          .set({ lastRunAt: due, updatedAt: now })
          .where(
            and(
              eq(plans.id, id),
              eq(plans.enabled, true),
              or(isNull(plans.lastRunAt), lt(plans.lastRunAt, due)),
            ),
          )
          .returning()
          .get(),
      );
    },
    async claimMaintenance(id, step, now, intervalMs) {
      const { column, key } = MAINTENANCE_COLUMNS[step];
      return maybeRow(
        db
          .update(plans)
          .set({ [key]: now, updatedAt: now })
          .where(and(eq(plans.id, id), or(isNull(column), lte(column, now - intervalMs))))
          .returning()
          .get(),
      );
    },
  };
}
