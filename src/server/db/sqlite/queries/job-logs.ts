/**
 * Log lines of jobs on SQLite. (job_id, sequence) is unique: an agent re-uploading after
 * a network error, or lines arriving out of order, store each line exactly once; readers
 * get them in sequence order. Spread into jobQueries (store.jobs), so callers see one
 * job store.
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
      return parseRows(
        JobLogRecord,
        TABLE,
        db
          .insert(jobLogs)
          .values(entries.map((e) => ({ ...e, jobId })))
          .onConflictDoNothing({ target: [jobLogs.jobId, jobLogs.sequence] })
          .returning(logColumns)
          .all(),
      );
    },

    async logs(jobId, afterSequence, limit) {
      return parseRows(
        JobLogRecord,
        TABLE,
        db
          .select(logColumns)
          .from(jobLogs)
          .where(and(eq(jobLogs.jobId, jobId), gt(jobLogs.sequence, afterSequence)))
          .orderBy(asc(jobLogs.sequence))
          .limit(limit)
          .all(),
      );
    },
    async logTail(jobId, limit) {
      return parseRows(
        JobLogRecord,
        TABLE,
        db
          .select(logColumns)
          .from(jobLogs)
          .where(eq(jobLogs.jobId, jobId))
          .orderBy(desc(jobLogs.sequence))
          .limit(limit)
          .all(),
      ).reverse();
    },
  };
}
