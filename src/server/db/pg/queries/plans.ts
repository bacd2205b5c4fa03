/** Backup plans on PostgreSQL (PlanStore): records, and the scheduler's guarded claim of a due time. */
import { and, eq, isNull, lt, or } from "drizzle-orm";
import { parseMaybe, parseRow, parseRows } from "../../parse.ts";
import { PlanRecord, type PlanRow } from "../../records.ts";
import type { PlanStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { plans } from "../schema.ts";

const TABLE = "plans";
const maybeRow = (raw: unknown): PlanRow | undefined => parseMaybe(PlanRecord, TABLE, raw);

export function planQueries(db: Db): PlanStore {
  return {
    async insert(plan, now) {
      const [row] = await db
        .insert(plans)
        .values({ ...plan, createdAt: now, updatedAt: now })
        .returning();
      return parseRow(PlanRecord, TABLE, row);
    },
    async list(filter = {}) {
      return parseRows(
        PlanRecord,
        TABLE,
        await db
          .select()
          .from(plans)
          .where(
            filter.repositoryId === undefined
              ? undefined
              : eq(plans.repositoryId, filter.repositoryId),
          )
          .orderBy(plans.id),
      );
    },
    async byId(id) {
      const [row] = await db.select().from(plans).where(eq(plans.id, id));
      return maybeRow(row);
    },
    async update(id, patch, now) {
      const [row] = await db
        .update(plans)
        .set({ ...patch, updatedAt: now })
        .where(eq(plans.id, id))
        .returning();
      return maybeRow(row);
    },
    async remove(id) {
      const rows = await db.delete(plans).where(eq(plans.id, id)).returning({ id: plans.id });
      return rows.length > 0;
    },
    async claimDueRun(id, due, now) {
      // READ COMMITTED re-checks the WHERE after the row lock: one replica wins a due time.
      const [row] = await db
        .update(plans)
        .set({ lastRunAt: due, updatedAt: now })
        .where(
          and(
            eq(plans.id, id),
            eq(plans.enabled, true),
            or(isNull(plans.lastRunAt), lt(plans.lastRunAt, due)),
          ),
        )
        .returning();
      return maybeRow(row);
    },
  };
}
