/** Keys lent on boxes for one job each, on SQLite (LentBoxKeyStore). */
import { and, asc, eq, inArray, isNotNull, isNull, lt, or } from "drizzle-orm";
import { TERMINAL_JOB_STATUSES } from "../../../../shared/protocol/agent.ts";
import { parseRow, parseRows } from "../../parse.ts";
import { LentBoxKeyRecord } from "../../records.ts";
import type { LentBoxKeyStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { jobs, lentBoxKeys } from "../schema.ts";

const TABLE = "lent_box_keys";

export function lentBoxKeyQueries(db: Db): LentBoxKeyStore {
  return {
    async insert(key, now) {
      const row = db
        .insert(lentBoxKeys)
        .values({ ...key, createdAt: now })
        .returning()
        .get();
      return parseRow(LentBoxKeyRecord, TABLE, row);
    },
    async attachJob(id, jobId) {
      db.update(lentBoxKeys).set({ jobId }).where(eq(lentBoxKeys.id, id)).run();
    },
    async forJob(jobId) {
      const rows = db.select().from(lentBoxKeys).where(eq(lentBoxKeys.jobId, jobId)).all();
      return parseRows(LentBoxKeyRecord, TABLE, rows);
    },
    async due(orphanBefore, limit) {
      const rows = db
        .select({ lent: lentBoxKeys })
        .from(lentBoxKeys)
        .leftJoin(jobs, eq(jobs.id, lentBoxKeys.jobId))
        .where(
          or(
            and(isNull(lentBoxKeys.jobId), lt(lentBoxKeys.createdAt, orphanBefore)),
            and(isNotNull(lentBoxKeys.jobId), isNull(jobs.id)),
            inArray(jobs.status, [...TERMINAL_JOB_STATUSES]),
          ),
        )
        .orderBy(asc(lentBoxKeys.id))
        .limit(limit)
        .all();
      return parseRows(
        LentBoxKeyRecord,
        TABLE,
        rows.map((r) => r.lent),
      );
    },
    async remove(id) {
      db.delete(lentBoxKeys).where(eq(lentBoxKeys.id, id)).run();
    },
  };
}
