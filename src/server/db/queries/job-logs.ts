/**
 * Log lines of jobs. (job_id, sequence) is unique: an agent re-uploading after a network
 * error, or lines arriving out of order, store each line exactly once; readers get them
 * in sequence order. Spread into jobQueries (store.jobs), so callers see one job store.
 */
import { and, asc, eq, gt } from "drizzle-orm";
import type { Db } from "../client.ts";
import { jobLogs } from "../schema.ts";

export interface JobLogRow {
  sequence: number;
  stream: string;
  message: string;
  /** When the agent saw the line (its clock), epoch ms. */
  createdAt: number;
}

const logColumns = {
  sequence: jobLogs.sequence,
  stream: jobLogs.stream,
  message: jobLogs.message,
  createdAt: jobLogs.createdAt,
};

export function jobLogQueries(db: Db) {
  return {
    /** Stores new log lines; a (job, sequence) already stored is skipped. Returns the new ones. */
    async insertLogs(jobId: number, entries: JobLogRow[]): Promise<JobLogRow[]> {
      if (entries.length === 0) return [];
      return db
        .insert(jobLogs)
        .values(entries.map((e) => ({ ...e, jobId })))
        .onConflictDoNothing({ target: [jobLogs.jobId, jobLogs.sequence] })
        .returning(logColumns)
        .all();
    },

    /** Log lines after `afterSequence`, in sequence order. */
    async logs(jobId: number, afterSequence: number, limit: number): Promise<JobLogRow[]> {
      return db
        .select(logColumns)
        .from(jobLogs)
        .where(and(eq(jobLogs.jobId, jobId), gt(jobLogs.sequence, afterSequence)))
        .orderBy(asc(jobLogs.sequence))
        .limit(limit)
        .all();
    },
  };
}
