/**
 * Log lines of jobs on PostgreSQL. (job_id, sequence) is unique and inserts skip a
 * conflict (ON CONFLICT DO NOTHING), so a re-upload, even racing on another replica,
 * stores each line exactly once. Spread into jobQueries (store.jobs).
 */
import { and, asc, desc, eq, gt } from "drizzle-orm";
import { parseRows } from "../../parse.ts";
import { JobLogRecord } from "../../records.ts";
import type { JobStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { jobLogs } from "../schema.ts";

const TABLE = "job_logs";

const logColumns = {
  sequence: jobLogs.sequence,
  stream: jobLogs.stream,
  message: jobLogs.message,
  createdAt: jobLogs.createdAt,
};

export function jobLogQueries(db: Db): Pick<JobStore, "insertLogs" | "logs" | "logTail"> {
  return {
    async insertLogs(jobId, entries) {
      if (entries.length === 0) return [];
      const rows = await db
        .insert(jobLogs)
        .values(entries.map((e) => ({ ...e, jobId })))
        .onConflictDoNothing({ target: [jobLogs.jobId, jobLogs.sequence] })
        .returning(logColumns);
      // RETURNING's order is not promised; callers get the new lines as they were given.
      const order = new Map(entries.map((e, i) => [e.sequence, i]));
      return parseRows(JobLogRecord, TABLE, rows).sort(
        (a, b) => (order.get(a.sequence) ?? 0) - (order.get(b.sequence) ?? 0),
      );
    },

    async logs(jobId, afterSequence, limit) {
      return parseRows(
        JobLogRecord,
        TABLE,
        await db
          .select(logColumns)
          .from(jobLogs)
          .where(and(eq(jobLogs.jobId, jobId), gt(jobLogs.sequence, afterSequence)))
          .orderBy(asc(jobLogs.sequence))
          .limit(limit),
      );
    },
    async logTail(jobId, limit) {
      return parseRows(
        JobLogRecord,
        TABLE,
        await db
          .select(logColumns)
          .from(jobLogs)
          .where(eq(jobLogs.jobId, jobId))
          .orderBy(desc(jobLogs.sequence))
          .limit(limit),
      ).reverse();
    },
  };
}
